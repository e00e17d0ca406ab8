"""Hostile or broken requests get a clear page, never a 500: charsets, sizes, NUL characters."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from tests.cast import sign_in


@pytest.fixture
def adviser(cast) -> Client:
    http = Client(HTTP_HOST=cast.host(cast.a1))
    sign_in(http, cast.adviser_a)
    return http


@pytest.mark.parametrize("signed_in", [False, True])
@pytest.mark.parametrize("path", ["/accounts/login/", "/signup/", "/accounts/password-reset/"])
def test_a_non_utf8_charset_is_refused_with_400(cast, signed_in, path):
    http = Client(HTTP_HOST=settings.BASE_DOMAIN)
    if signed_in:
        sign_in(http, cast.admin_a)
    body = "email=a%40b.nl&password=x"  # the test client encodes it in the charset
    response = http.post(
        path, body, content_type="application/x-www-form-urlencoded; charset=utf-16"
    )
    assert response.status_code == 400
    assert "andere tekencodering dan UTF-8" in response.content.decode()


def test_a_case_form_with_utf16_is_refused_and_creates_nothing(cast, adviser):
    from django_tenants.utils import tenant_context

    from cases.models import Case

    with tenant_context(cast.a1):
        before = Case.objects.count()
    response = adviser.post(
        "/cases/new/",
        "channel=video",
        content_type="application/x-www-form-urlencoded; charset=utf-16",
    )
    assert response.status_code == 400
    with tenant_context(cast.a1):
        assert Case.objects.count() == before


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/cases/", {"q": "2025-\x000001"}),
        ("/cases/administration/access-log/", {"reference": "\x00"}),
        ("/cases/administration/access-log/", {"\x00": "x"}),
    ],
)
def test_nul_in_a_query_is_a_clear_400(cast, adviser, path, query):
    admin = Client(HTTP_HOST=cast.host(cast.a1))
    sign_in(admin, cast.admin_a)
    for http in (adviser, admin):
        response = http.get(path, query)
        assert response.status_code == 400, path
        assert "onzichtbaar stuurteken (NUL)" in response.content.decode()


def test_nul_in_a_form_value_is_a_clear_400(cast, adviser):
    response = adviser.post("/cases/new/", {"channel": "video", "summary": "a\x00b"})
    assert response.status_code == 400
    assert "onzichtbaar stuurteken (NUL)" in response.content.decode()


def test_an_oversized_request_gets_413_in_the_visitors_language(cast, adviser, settings):
    settings.MAX_REQUEST_BYTES = 1024 * 1024
    response = adviser.post(
        "/cases/new/",
        "x=" + "a" * (1024 * 1024 + 10),
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 413
    assert "groter dan 1 MB" in response.content.decode()
    adviser.cookies.load({settings.LANGUAGE_COOKIE_NAME: "en"})
    response = adviser.post(
        "/cases/new/",
        "x=" + "a" * (1024 * 1024 + 10),
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 413
    assert "larger than 1 MB" in response.content.decode()


def test_too_many_form_fields_is_413_not_a_bare_400(cast, adviser, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10
    response = adviser.post("/cases/new/", {f"f{i}": "x" for i in range(20)})
    assert response.status_code == 413
