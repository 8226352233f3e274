"""Devices a subscriber has logged in from, and the notice sent on a login from a new one.

A device is the pair (browser user agent, IP address), kept only as a keyed hash: the fingerprint
proves "seen before" without storing the IP. The account adapter's ``login`` calls
``device_login_check`` after every completed login (password, SMS code, social network, app API),
so the check runs once the second factor, if any, has been passed.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, models, transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

USER_AGENT_SHOWN_LENGTH = 200


class KnownDevice(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="known_devices")
    fingerprint = models.CharField(max_length=64)
    user_agent = models.CharField(max_length=USER_AGENT_SHOWN_LENGTH, blank=True)
    first_seen_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        app_label = "identity"
        constraints = [
            models.UniqueConstraint(fields=["user", "fingerprint"], name="knowndevice_user_fingerprint_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.user_agent[:40]}"


def device_fingerprint(*, user_agent: str, ip: str) -> str:
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"{user_agent}\n{ip}".encode(), hashlib.sha256).hexdigest()


def _client(request: HttpRequest) -> tuple[str, str]:
    from allauth.account.adapter import get_adapter

    user_agent = request.META.get("HTTP_USER_AGENT", "")
    try:
        ip = get_adapter(request).get_client_ip(request)
    except Exception:  # allauth refuses requests without a usable address (PermissionDenied)
        ip = request.META.get("REMOTE_ADDR", "")
    return user_agent, ip


def device_login_check(*, request: HttpRequest, user: Any) -> bool:
    """Remember the device of this login; notify the subscriber when it is new.

    The first device a user ever logs in from (usually right after registration) is remembered
    silently. Returns True when a notice was sent.
    """
    user_agent, ip = _client(request)
    fingerprint = device_fingerprint(user_agent=user_agent, ip=ip)
    now = timezone.now()
    updated = KnownDevice.objects.filter(user=user, fingerprint=fingerprint).update(last_seen_at=now)
    if updated:
        return False
    had_devices = KnownDevice.objects.filter(user=user).exists()
    try:
        with transaction.atomic():
            KnownDevice.objects.create(
                user=user,
                fingerprint=fingerprint,
                user_agent=user_agent[:USER_AGENT_SHOWN_LENGTH],
                first_seen_at=now,
                last_seen_at=now,
            )
    except IntegrityError:  # the same device logging in twice at once
        return False
    if not had_devices:
        return False
    new_device_notice_send(user=user, user_agent=user_agent, ip=ip, at=now)
    return True


def new_device_notice_send(*, user: Any, user_agent: str, ip: str, at: Any) -> None:
    when = timezone.localtime(at).strftime("%d.%m.%Y %H:%M")
    sessions_url = settings.SITE_URL + reverse("usersessions_list")
    device = user_agent[:120] or _("неизвестное устройство")
    if user.email and (user.email_verified or not user.phone):
        subject = _("Вход в личный кабинет с нового устройства")
        body = _(
            "Здравствуйте!\n\n"
            "%(when)s выполнен вход в ваш личный кабинет Летай с нового устройства:\n"
            "%(device)s, IP-адрес %(ip)s.\n\n"
            "Если это были вы, ничего делать не нужно. Если нет, смените пароль и завершите все "
            "сеансы: %(url)s\n"
        ) % {"when": when, "device": device, "ip": ip, "url": sessions_url}
        send_mail(subject, body, None, [user.email])
    elif user.phone:
        from kabinet.notifications.sms import sms_send

        text = _(
            "Летай: %(when)s вход в личный кабинет с нового устройства (IP %(ip)s). "
            "Если это не вы, смените пароль: %(url)s"
        ) % {"when": when, "ip": ip, "url": sessions_url}
        sms_send(to=user.phone, text=text)
