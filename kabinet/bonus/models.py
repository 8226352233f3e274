"""«Летай Бонус»: members, the accrual/redemption rule, and point lots (for expiry).

Points live in the ledger like money: each member has a LedgerAccount ``bonus:<user_id>`` whose
balance is the member's points; points are issued from and returned to ``bonus:issued``. Redeeming
also moves money (points x kopecks_per_point) from ``bonus:liability`` to the subscriber's personal
account, so every movement is a balanced, idempotent LedgerTransfer (kabinet.bonus.services).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from kabinet.billing.models import LedgerAccount
from kabinet.core.models import TimeStampedModel


class BonusMember(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="bonus_member"
    )
    ledger_account = models.OneToOneField(
        LedgerAccount, on_delete=models.PROTECT, related_name="bonus_member"
    )
    joined_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"bonus member {self.user_id}"


class BonusRule(TimeStampedModel):
    """The programme's rule. One row (pk=1); staff change it in the back office (audited)."""

    points_per_100_rub = models.PositiveIntegerField(default=100)
    min_payment_kopecks = models.BigIntegerField(default=10_000)
    kopecks_per_point = models.PositiveIntegerField(default=1)
    expiry_days = models.PositiveIntegerField(default=365)
    is_active = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(kopecks_per_point__gt=0), name="bonus_rule_point_value_gt_0"),
            models.CheckConstraint(condition=Q(min_payment_kopecks__gte=0), name="bonus_rule_min_gte_0"),
        ]


class BonusLot(models.Model):
    """Points earned by one accrual; redeemed oldest first, the rest expires at ``expires_at``."""

    member = models.ForeignKey(BonusMember, on_delete=models.CASCADE, related_name="lots")
    points = models.BigIntegerField()
    remaining = models.BigIntegerField()
    earned_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)
    # The accrual's ledger key (bonus:accrual:payment:<id>), unique: a lot is created once.
    key = models.CharField(max_length=128, unique=True)
    description = models.CharField(max_length=255, blank=True)
    expired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["earned_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(points__gt=0), name="bonus_lot_points_gt_0"),
            models.CheckConstraint(condition=Q(remaining__gte=0), name="bonus_lot_remaining_gte_0"),
        ]
        indexes = [models.Index(fields=["member", "remaining"], name="bonus_lot_member_remaining")]
