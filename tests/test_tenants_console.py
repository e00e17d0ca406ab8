from __future__ import annotations

from tests.cast import sign_in


def test_firm_admin_sees_all_clients_of_the_firm_only(cast, console):
    sign_in(console, cast.admin_a)
    response = console.get("/console/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Zorggroep Noord" in body and "Gemeente Zuid" in body
    assert "Bouwbedrijf West" not in body


def test_adviser_sees_only_assigned_clients(cast, console):
    sign_in(console, cast.adviser_a)
    body = console.get("/console/").content.decode()
    assert "Zorggroep Noord" in body
    assert "Gemeente Zuid" not in body


def test_client_host_home_for_contact_person(cast, client_for):
    http = client_for(cast.a1)
    sign_in(http, cast.contact_a1)
    response = http.get("/")
    assert response.status_code == 200
    assert "Zorggroep Noord" in response.content.decode()


def test_contact_person_of_a1_gets_404_on_a2(cast, client_for):
    http = client_for(cast.a2)
    sign_in(http, cast.contact_a1)
    assert http.get("/").status_code == 404
