from io import StringIO

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_no_model_changes_without_migrations() -> None:
    out = StringIO()
    try:
        call_command("makemigrations", "--check", "--dry-run", stdout=out, stderr=out)
    except SystemExit as exc:  # makemigrations --check exits 1 when a migration is missing
        pytest.fail(f"Missing migrations:\n{out.getvalue()}" if exc.code else "")


def test_system_checks_pass() -> None:
    call_command("check", "--fail-level", "WARNING")


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/", "/accounts/login/", "/accounts/signup/", "/pay/", "/api/v1/docs"])
def test_pages_load_no_script_or_style_from_other_hosts(client, url: str) -> None:
    # The portal must work without the internet: no CDN for scripts, styles or icons.
    import re

    html = client.get(url).content.decode()
    external = re.findall(r'(?:src|href)="(https?://[^"]+)"', html)
    assets = [u for u in external if re.search(r"\.(js|css|svg|png|ico|woff2?)(\?|$)", u)]
    assert assets == []
