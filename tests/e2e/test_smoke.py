from playwright.sync_api import Page, expect


def test_home_page_shows_login_and_hotline(live_server, page: Page) -> None:
    # when
    page.goto(live_server.url + "/")
    # then
    expect(page.get_by_role("heading", level=1)).to_have_text("Личный кабинет абонента Летай")
    expect(page.locator("footer")).to_contain_text("8-843-222-22-22")
    expect(page.locator("footer")).to_contain_text("118-08")
