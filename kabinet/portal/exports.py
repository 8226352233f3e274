"""A personal account's statement as CSV and PDF, and the monthly spending chart as inline SVG."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence
from functools import cache
from pathlib import Path

from django.utils.dates import MONTHS_3
from django.utils.html import escape
from django.utils.translation import gettext as _

from kabinet.billing.models import PersonalAccount
from kabinet.core.money import format_kopecks, kopecks_to_decimal
from kabinet.portal.selectors import HistoryLine, MonthSpending


def statement_csv(*, personal_account: PersonalAccount, lines: Sequence[HistoryLine]) -> str:
    """Semicolon-separated (what Russian spreadsheets open by default), amounts as 415.00, with a BOM."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, delimiter=";")
    writer.writerow([_("Дата"), _("Операция"), _("Сумма, ₽"), _("Основание")])
    for line in lines:
        writer.writerow(
            [
                line.value_date.strftime("%d.%m.%Y"),
                line.kind_label,
                str(kopecks_to_decimal(line.amount_kopecks)),
                line.reason,
            ]
        )
    return out.getvalue()


@cache
def _pdf_font() -> str:
    import fontpkg_noto_sans
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    path = Path(fontpkg_noto_sans.ROOT) / "files" / "NotoSans[wdth,wght].ttf"
    pdfmetrics.registerFont(TTFont("NotoSans", str(path)))
    return "NotoSans"


def statement_pdf(
    *,
    personal_account: PersonalAccount,
    lines: Sequence[HistoryLine],
    period_text: str,
    balance_kopecks: int,
    operator_name: str,
) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    font = _pdf_font()
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=15 * mm,
        title=_("Выписка по лицевому счёту %(number)s") % {"number": personal_account.number},
        author=operator_name,
        invariant=True,
    )
    title = ParagraphStyle("title", fontName=font, fontSize=15, leading=19, spaceAfter=6)
    body = ParagraphStyle("body", fontName=font, fontSize=9.5, leading=12)
    cell = ParagraphStyle("cell", fontName=font, fontSize=8.5, leading=10.5)
    story = [
        Paragraph(
            escape(_("Выписка по лицевому счёту %(number)s") % {"number": personal_account.number}), title
        ),
        Paragraph(escape(operator_name), body),
        Paragraph(escape(_("Период: %(period)s") % {"period": period_text}), body),
        Paragraph(
            escape(_("Баланс на сегодня: %(balance)s") % {"balance": format_kopecks(balance_kopecks)}), body
        ),
        Spacer(1, 5 * mm),
    ]
    rows: list[list[object]] = [[_("Дата"), _("Операция"), _("Сумма"), _("Основание")]]
    for line in lines:
        rows.append(
            [
                line.value_date.strftime("%d.%m.%Y"),
                Paragraph(escape(line.kind_label), cell),
                format_kopecks(line.amount_kopecks, sign=True),
                Paragraph(escape(line.reason), cell),
            ]
        )
    if len(rows) == 1:
        rows.append(["", "", "", Paragraph(escape(_("Операций за период нет.")), cell)])
    table = Table(rows, colWidths=[22 * mm, 32 * mm, 28 * mm, None], repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), font),
                ("FONTSIZE", (0, 0), (-1, -1), 8.5),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e7edf5")),
                ("ALIGN", (2, 0), (2, -1), "RIGHT"),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#d5dbe3")),
            ]
        )
    )
    story.append(table)
    doc.build(story)
    return buffer.getvalue()


def spending_chart_svg(*, months: Sequence[MonthSpending], title_id: str = "spending-chart-title") -> str:
    """A bar chart of monthly charges, server-rendered, readable by screen readers (title + desc)."""
    width, height, pad_left, pad_bottom, pad_top = 360, 200, 4, 24, 18
    n = max(len(months), 1)
    top = max((m.charged_kopecks for m in months), default=0)
    plot_h = height - pad_bottom - pad_top
    slot = (width - pad_left * 2) / n
    bar_w = max(slot * 0.6, 4)
    parts = [
        f'<svg class="spending-chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="{title_id}" preserveAspectRatio="xMidYMid meet" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{title_id}">{escape(_("Расходы по месяцам"))}</title>',
    ]
    desc = "; ".join(
        f"{MONTHS_3[m.month.month]} {m.month.year}: {format_kopecks(m.charged_kopecks)}" for m in months
    )
    parts.append(f"<desc>{escape(desc)}</desc>")
    parts.append(
        f'<line x1="{pad_left}" y1="{height - pad_bottom}" x2="{width - pad_left}" '
        f'y2="{height - pad_bottom}" stroke="#8a94a3" stroke-width="1"/>'
    )
    for i, m in enumerate(months):
        h = 0.0 if top == 0 else plot_h * m.charged_kopecks / top
        x = pad_left + slot * i + (slot - bar_w) / 2
        y = height - pad_bottom - h
        label = f"{MONTHS_3[m.month.month]}"
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" fill="#0b5cad" rx="2">'
            f"<title>{escape(label)} {m.month.year}: {escape(format_kopecks(m.charged_kopecks))}</title></rect>"
        )
        parts.append(
            f'<text x="{x + bar_w / 2:.1f}" y="{height - 8}" font-size="11" text-anchor="middle" '
            f'fill="#1c2430">{escape(label)}</text>'
        )
        if m.charged_kopecks:
            rub = m.charged_kopecks // 100
            parts.append(
                f'<text x="{x + bar_w / 2:.1f}" y="{max(y - 3, 10):.1f}" font-size="8" text-anchor="middle" '
                f'fill="#1c2430">{rub}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


def period_text(date_from: dt.date | None, date_to: dt.date | None) -> str:
    if date_from and date_to:
        return f"{date_from:%d.%m.%Y} — {date_to:%d.%m.%Y}"
    if date_from:
        return _("с %(d)s") % {"d": f"{date_from:%d.%m.%Y}"}
    if date_to:
        return _("по %(d)s") % {"d": f"{date_to:%d.%m.%Y}"}
    return _("вся история")
