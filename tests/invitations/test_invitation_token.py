"""Who may accept an invitation how: emails are not verified, so an account registered at or after the invitation
must present its token (shown once, to the inviter); an account that existed before accepts by id alone."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI

from tests.fixtures.auth import register
from tests.fixtures.factories import unique
from tests.fixtures.membership import API, Caller, Tenant
from twosigma.config import Settings


class Registered:
    """Someone who signs up through the API, after the invitation to their address was made."""

    def __init__(self, client: httpx.AsyncClient, email: str, access_token: str) -> None:
        self.client, self.email = client, email
        self.headers = {"Authorization": f"Bearer {access_token}"}

    @classmethod
    async def sign_up(cls, client: httpx.AsyncClient, email: str) -> Registered:
        pair = await register(client, email=email)
        return cls(client, email, pair["access_token"])

    async def get(self, path: str) -> httpx.Response:
        return await self.client.get(API + path, headers=self.headers)

    async def post(self, path: str, body: Any = None) -> httpx.Response:
        return await self.client.post(API + path, json=body, headers=self.headers)


def _new_address() -> str:
    return f"{unique('new.dean')}@example.edu"


async def _invite_admin(admin: Caller, t: Tenant, email: str) -> dict[str, Any]:
    response = await admin.post(f"/universities/{t.university.id}/roles", {"email": email, "role": "UNIVERSITY_ADMIN"})
    assert response.status_code == 202, response.text
    body: dict[str, Any] = response.json()
    return body


def _refused_for_want_of_the_token(response: httpx.Response) -> bool:
    return (response.status_code, response.json()["error"]["code"]) == (403, "invitation_token_required")


class TestAnAccountRegisteredAfterTheInvitation:
    async def test_registering_the_invited_address_does_not_claim_the_invitation(
        self, client: httpx.AsyncClient, settings: Settings, a: Tenant
    ) -> None:
        admin = Caller(client, settings, a.admin)
        address = _new_address()
        invitation = await _invite_admin(admin, a, address)
        attacker = await Registered.sign_up(client, address.title())
        mine = (await attacker.get("/users/me/invitations")).json()
        assert [i["id"] for i in mine["items"]] == [invitation["id"]]

        response = await attacker.post(f"/invitations/{invitation['id']}/accept")
        assert _refused_for_want_of_the_token(response), response.text
        assert "invitation link" in response.json()["error"]["message"]
        me = (await attacker.get("/users/me")).json()
        assert me["roles"] == []
        listed = (await admin.get(f"/universities/{a.university.id}/invitations")).json()["items"]
        assert (listed[0]["id"], listed[0]["status"]) == (invitation["id"], "PENDING")

    async def test_with_the_token_from_the_inviters_answer_it_accepts(
        self, client: httpx.AsyncClient, settings: Settings, a: Tenant
    ) -> None:
        address = _new_address()
        invitation = await _invite_admin(Caller(client, settings, a.admin), a, address)
        invitee = await Registered.sign_up(client, address)
        response = await invitee.post(f"/invitations/{invitation['id']}/accept", {"token": invitation["accept_token"]})
        assert response.status_code == 200, response.text
        assert response.json()["grant_id"] is not None
        me = (await invitee.get("/users/me")).json()
        assert {"university_id": a.university.id, "role": "UNIVERSITY_ADMIN", "department_id": None} in me["roles"]

    async def test_a_wrong_token_is_403(self, client: httpx.AsyncClient, settings: Settings, a: Tenant) -> None:
        address = _new_address()
        invitation = await _invite_admin(Caller(client, settings, a.admin), a, address)
        invitee = await Registered.sign_up(client, address)
        wrong = invitation["accept_token"][:-1] + ("A" if invitation["accept_token"][-1] != "A" else "B")
        response = await invitee.post(f"/invitations/{invitation['id']}/accept", {"token": wrong})
        assert _refused_for_want_of_the_token(response), response.text

    async def test_the_token_of_another_invitation_is_403(
        self, client: httpx.AsyncClient, settings: Settings, a: Tenant, b: Tenant
    ) -> None:
        address = _new_address()
        to_a = await _invite_admin(Caller(client, settings, a.admin), a, address)
        to_b = await _invite_admin(Caller(client, settings, b.admin), b, address)
        invitee = await Registered.sign_up(client, address)
        response = await invitee.post(f"/invitations/{to_a['id']}/accept", {"token": to_b["accept_token"]})
        assert _refused_for_want_of_the_token(response), response.text

    async def test_the_token_does_not_stand_in_for_the_address(
        self, client: httpx.AsyncClient, settings: Settings, a: Tenant
    ) -> None:
        invitation = await _invite_admin(Caller(client, settings, a.admin), a, _new_address())
        someone_else = await Registered.sign_up(client, _new_address())
        response = await someone_else.post(
            f"/invitations/{invitation['id']}/accept", {"token": invitation["accept_token"]}
        )
        assert response.status_code == 404

    async def test_an_enrolment_invitation_needs_the_token_too(
        self, client: httpx.AsyncClient, settings: Settings, a: Tenant
    ) -> None:
        address = _new_address()
        response = await Caller(client, settings, a.instructor).post(
            f"/offerings/{a.offering.id}/enrollments", {"email": address}
        )
        assert response.status_code == 202, response.text
        invitation = response.json()
        invitee = await Registered.sign_up(client, address)
        assert _refused_for_want_of_the_token(await invitee.post(f"/invitations/{invitation['id']}/accept"))
        accepted = await invitee.post(f"/invitations/{invitation['id']}/accept", {"token": invitation["accept_token"]})
        assert (accepted.status_code, accepted.json()["enrollment_status"]) == (200, "ACTIVE")

    async def test_declining_needs_no_token(self, client: httpx.AsyncClient, settings: Settings, a: Tenant) -> None:
        address = _new_address()
        invitation = await _invite_admin(Caller(client, settings, a.admin), a, address)
        invitee = await Registered.sign_up(client, address)
        response = await invitee.post(f"/invitations/{invitation['id']}/decline")
        assert (response.status_code, response.json()["status"]) == (200, "DECLINED")


class TestAnAccountThatExistedBefore:
    async def test_accepts_by_id_without_a_token(
        self, client: httpx.AsyncClient, settings: Settings, a: Tenant, b: Tenant
    ) -> None:
        invitation = await _invite_admin(Caller(client, settings, a.admin), a, b.student.email)
        response = await Caller(client, settings, b.student).post(f"/invitations/{invitation['id']}/accept")
        assert response.status_code == 200, response.text

    async def test_a_token_it_presents_must_still_be_the_right_one(
        self, client: httpx.AsyncClient, settings: Settings, a: Tenant, b: Tenant
    ) -> None:
        invitation = await _invite_admin(Caller(client, settings, a.admin), a, b.student.email)
        response = await Caller(client, settings, b.student).post(
            f"/invitations/{invitation['id']}/accept", {"token": "not-the-token"}
        )
        assert _refused_for_want_of_the_token(response), response.text


class TestTheTokenIsShownOnce:
    async def test_the_inviter_gets_the_token_and_the_link_in_the_answer(
        self, client: httpx.AsyncClient, settings: Settings, a: Tenant
    ) -> None:
        invitation = await _invite_admin(Caller(client, settings, a.admin), a, _new_address())
        token = invitation["accept_token"]
        assert len(token) >= 43
        assert invitation["accept_url"] == f"{settings.public_base_url.rstrip('/')}/invitations/accept?token={token}"

    async def test_no_list_read_acceptance_or_audit_event_shows_it(
        self, client: httpx.AsyncClient, settings: Settings, a: Tenant
    ) -> None:
        admin = Caller(client, settings, a.admin)
        address = _new_address()
        invitation = await _invite_admin(admin, a, address)
        token = invitation["accept_token"]
        invitee = await Registered.sign_up(client, address)
        answers = [
            await admin.get(f"/universities/{a.university.id}/invitations"),
            await invitee.get("/users/me/invitations"),
            await invitee.post(f"/invitations/{invitation['id']}/accept", {"token": token}),
            await admin.get(f"/universities/{a.university.id}/invitations"),
            await admin.get(f"/universities/{a.university.id}/audit"),
        ]
        for answer in answers:
            assert answer.status_code == 200, answer.text
            assert token not in answer.text
            assert "accept_token" not in answer.text
            assert "accept_url" not in answer.text

    async def test_openapi_documents_the_created_invitation_as_the_202(self, app: FastAPI) -> None:
        document = app.openapi()
        schemas = document["components"]["schemas"]
        created = schemas["InvitationCreated"]
        assert set(schemas["InvitationRead"]["properties"]) < set(created["properties"])
        for field in ("accept_token", "accept_url"):
            assert field in created["required"]
            assert "Shown once" in created["properties"][field]["description"]
        for path in ("/api/v1/universities/{university_id}/roles", "/api/v1/offerings/{offering_id}/enrollments"):
            answer = document["paths"][path]["post"]["responses"]["202"]["content"]["application/json"]["schema"]
            assert answer == {"$ref": "#/components/schemas/InvitationCreated"}
        listed = document["paths"]["/api/v1/universities/{university_id}/invitations"]["get"]["responses"]["200"]
        assert "InvitationCreated" not in str(listed)
