"""PDF receipts (квитанции): the personal account number at the top, the operator's details, the date,
amount, method, masked card and payment id. Fonts come from packages (Noto Sans from fontpkg-noto-sans,
DejaVu from Debian as a fallback); both have Cyrillic and the ruble sign ₽."""

from __future__ import annotations

import datetime as dt
import io
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from reportlab.lib.pagesizes import A5
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from kabinet.core.money import format_kopecks
from kabinet.payments.models import Payment, PaymentEvent

FONT = "KabinetSans"
_DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


def _font_candidates() -> list[Path]:
    paths: list[Path] = []
    try:
        import fontpkg_noto_sans

        files = Path(fontpkg_noto_sans.ROOT) / "files"
        paths += sorted(p for p in files.glob("NotoSans*.ttf") if "Italic" not in p.name)
    except ImportError:  # pragma: no cover - the package is a dependency
        pass
    paths.append(_DEJAVU)
    return paths


@lru_cache(maxsize=1)
def receipt_font() -> str:
    """Register the first font that has Cyrillic and ₽; returns its ReportLab name."""
    for path in _font_candidates():
        if not path.exists():
            continue
        try:
            font = TTFont(FONT, str(path))
        except Exception:  # noqa: S112 - a font we cannot read: try the next one
            continue
        glyphs = font.face.charToGlyph
        if 0x20BD in glyphs and 0x0416 in glyphs:
            pdfmetrics.registerFont(font)
            return FONT
    raise RuntimeError("No font with Cyrillic and ₽ found: install fontpkg-noto-sans or fonts-dejavu-core")


def receipt_filename(payment: Payment) -> str:
    return f"kvitanciya-{payment.personal_account.number}-{str(payment.public_id)[:8]}.pdf"


def receipt_lines(payment: Payment) -> list[tuple[str, str]]:
    operator = settings.OPERATOR
    when = timezone.localtime(payment.credited_at or payment.paid_at or payment.created_at)
    lines = [
        (_("Лицевой счёт"), payment.personal_account.number),
        (_("Получатель"), f"{operator['legal_name']} ({operator['name']})"),
        (_("ИНН"), operator.get("inn", "")),
        (_("Адрес"), operator.get("address", "")),
        (_("Дата платежа"), when.strftime("%d.%m.%Y %H:%M")),
        (_("Сумма"), format_kopecks(payment.amount_kopecks)),
        (_("Комиссия"), _("без комиссии")),
        (_("Способ оплаты"), str(payment.get_method_display())),
    ]
    if payment.card_mask:
        lines.append((_("Карта"), f"{payment.card_brand} {payment.card_mask}".strip()))
    lines.append((_("Статус"), str(payment.get_status_display())))
    if payment.refunded_kopecks:
        lines.append((_("Возвращено"), format_kopecks(payment.refunded_kopecks)))
    lines.append((_("Номер платежа"), str(payment.public_id)))
    if payment.acquirer_payment_id:
        lines.append((_("Номер операции в банке"), payment.acquirer_payment_id))
    return lines


def receipt_pdf(*, payment: Payment) -> bytes:
    font = receipt_font()
    buffer = io.BytesIO()
    _width, height = A5
    pdf = canvas.Canvas(buffer, pagesize=A5)
    pdf.setTitle(_("Квитанция об оплате, лицевой счёт %(n)s") % {"n": payment.personal_account.number})
    pdf.setAuthor(settings.OPERATOR["legal_name"])
    y = height - 18 * mm
    # The personal account number first: what the subscriber looks for.
    pdf.setFont(font, 11)
    pdf.drawString(15 * mm, y, _("Лицевой счёт"))
    pdf.setFont(font, 22)
    pdf.drawString(15 * mm, y - 9 * mm, payment.personal_account.number)
    y -= 22 * mm
    pdf.setFont(font, 15)
    pdf.drawString(15 * mm, y, _("Квитанция об оплате услуг связи"))
    y -= 10 * mm
    pdf.setFont(font, 10)
    for label, value in receipt_lines(payment):
        pdf.setFillGray(0.35)
        pdf.drawString(15 * mm, y, label)
        pdf.setFillGray(0)
        pdf.drawString(58 * mm, y, value[:60])
        y -= 7 * mm
    y -= 4 * mm
    pdf.setFont(font, 8)
    pdf.setFillGray(0.35)
    pdf.drawString(
        15 * mm,
        y,
        _("Горячая линия %(hotline)s, круглосуточно") % {"hotline": settings.OPERATOR.get("hotline", "")},
    )
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def receipt_email_send(*, payment_id: int) -> bool:
    """Email the receipt once (a RECEIPT_SENT event marks it). Returns True if sent now."""
    payment = Payment.objects.select_related("personal_account", "user").get(pk=payment_id)
    recipient = payment.receipt_email or (payment.user.email if payment.user and payment.user.email else "")
    if not recipient or payment.transfer_id is None:
        return False
    with transaction.atomic():
        locked = Payment.objects.select_for_update().get(pk=payment_id)
        if locked.events.filter(kind=PaymentEvent.Kind.RECEIPT_SENT).exists():
            return False
        PaymentEvent.objects.create(
            payment=locked, kind=PaymentEvent.Kind.RECEIPT_SENT, message=recipient[:255]
        )
    message = EmailMessage(
        subject=_("Квитанция об оплате: лицевой счёт %(n)s, %(amount)s")
        % {"n": payment.personal_account.number, "amount": format_kopecks(payment.amount_kopecks)},
        body=_(
            "Здравствуйте!\n\nПлатёж %(amount)s на лицевой счёт %(n)s зачислен. Квитанция — во вложении.\n\n"
            "Следить за платежом: %(url)s\n\n%(operator)s"
        )
        % {
            "amount": format_kopecks(payment.amount_kopecks),
            "n": payment.personal_account.number,
            "url": f"{settings.SITE_URL}/pay/status/{payment.public_id}/",
            "operator": settings.OPERATOR["name"],
        },
        to=[recipient],
    )
    message.attach(receipt_filename(payment), receipt_pdf(payment=payment), "application/pdf")
    message.send()
    return True


def receipts_unsent_send(
    *, older_than_minutes: int = 2, within_days: int = 2, limit: int = 500, now: dt.datetime | None = None
) -> int:
    """Send the receipts whose task never ran: payments credited between ``within_days`` and
    ``older_than_minutes`` ago, with a recipient and no RECEIPT_SENT event (a web process killed in
    the moment between the credit and the batched publish). Each still goes out once: sending is
    idempotent per payment. Returns how many were sent now."""
    now = now or timezone.now()
    candidates = (
        Payment.objects.filter(
            credited_at__gte=now - dt.timedelta(days=within_days),
            credited_at__lte=now - dt.timedelta(minutes=older_than_minutes),
            transfer__isnull=False,
        )
        .filter(Q(receipt_email__gt="") | Q(user__email__gt=""))
        .exclude(events__kind=PaymentEvent.Kind.RECEIPT_SENT)
        .order_by("credited_at")
        .values_list("pk", flat=True)[:limit]
    )
    return sum(1 for payment_id in list(candidates) if receipt_email_send(payment_id=payment_id))
