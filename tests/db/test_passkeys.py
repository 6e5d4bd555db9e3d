"""Passkey ceremonies against a real engine, with the in-repo software authenticator (security.md §7, 27–35)."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta, timezone

import pytest

from db import passkeys
from db.tables import Credential, Member, Passkey, PasskeyChallenge, PasskeyUser
from domain.passkeys import PasskeyError, PasskeyPolicy, PasskeyRefused, SignCountRegressed
from tests.conftest import make_member, run
from tests.soft_authenticator import ExcludedCredential, SoftAuthenticator, b64url, unb64url

ORIGIN = "http://testserver.local"
NOW = datetime(2026, 11, 20, 3, 0, tzinfo=timezone.utc)
RP = passkeys.RelyingParty(rp_id="testserver.local", name="カイイン", origin=ORIGIN)
UA_IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 Version/18.0 Mobile/15E148 Safari/604.1"


def query(piccolo_query):
    return run(piccolo_query.run())


def ctx(now: datetime = NOW, **policy) -> passkeys.PasskeyContext:
    return passkeys.PasskeyContext(now=now, rp=RP, policy=PasskeyPolicy(**policy))


def enrol(member_id: int, device: SoftAuthenticator, *, name: str = "", now: datetime = NOW) -> passkeys.PasskeyView:
    ceremony = run(passkeys.registration_options(member_id, ctx(now)))
    response = device.create(json.loads(ceremony.options_json))
    return run(passkeys.register(member_id, ceremony.token, json.dumps(response), name=name, user_agent=UA_IPHONE,
                                 ctx=ctx(now)))


def login(device: SoftAuthenticator, *, now: datetime = NOW, **bend) -> tuple[passkeys.Asserted | Exception, dict]:
    """One sign-in: fresh options, the authenticator answers (bent as asked); returns (outcome, response)."""
    ceremony = run(passkeys.authentication_options(ctx(now)))
    response = device.get(json.loads(ceremony.options_json), **bend)
    return attempt(ceremony.token, response, now=now), response


def attempt(token: str, response: dict | str, *, now: datetime = NOW) -> passkeys.Asserted | Exception:
    body = response if isinstance(response, str) else json.dumps(response)
    try:
        return run(passkeys.authenticate(token, body, ctx(now)))
    except PasskeyError as error:
        return error


@pytest.fixture
def member(settings) -> int:
    return make_member(settings)


@pytest.fixture
def device() -> SoftAuthenticator:
    return SoftAuthenticator(origin=ORIGIN)


def test_registration_stores_a_discoverable_uv_passkey_with_a_random_handle(member, device):
    ceremony = run(passkeys.registration_options(member, ctx()))
    options = json.loads(ceremony.options_json)
    assert options["authenticatorSelection"]["residentKey"] == "required"
    assert options["authenticatorSelection"]["userVerification"] == "required"
    assert options["rp"]["id"] == "testserver.local" and options["excludeCredentials"] == []
    handle = unb64url(options["user"]["id"])
    member_row = query(Member.select().where(Member.id == member).first())
    assert len(handle) == 32 and member_row["member_no"].encode() not in handle and b"1234567890" not in handle
    response = device.create(options)
    view = run(passkeys.register(member, ceremony.token, json.dumps(response), name="", user_agent=UA_IPHONE, ctx=ctx()))
    assert view.name == "iPhone (Safari)" and view.backed_up and view.device_type == "multi_device"
    row = query(Passkey.select().where(Passkey.member == member).first())
    assert row["credential_id"] == response["id"] and row["transports"] == "internal,hybrid"
    assert row["last_used_at"] is None and row["created_at"] == NOW
    # the same handle for every passkey of the member
    second = json.loads(run(passkeys.registration_options(member, ctx())).options_json)
    assert second["user"]["id"] == options["user"]["id"]
    assert [c["id"] for c in second["excludeCredentials"]] == [response["id"]]


def test_sign_in_by_discoverable_passkey_updates_count_and_last_used(member, device):
    enrol(member, device)
    later = NOW + timedelta(hours=1)
    outcome, _ = login(device, now=later)
    assert isinstance(outcome, passkeys.Asserted) and outcome.member_id == member and outcome.status == "active"
    row = query(Passkey.select(Passkey.sign_count, Passkey.last_used_at).first())
    assert row == {"sign_count": 1, "last_used_at": later}


@pytest.mark.parametrize("step", [0, 1], ids=["synced-count-0", "counting"])
def test_27_a_replayed_assertion_is_refused_even_with_sign_count_0(member, step):
    device = SoftAuthenticator(origin=ORIGIN, counter_step=step)
    enrol(member, device)
    ceremony = run(passkeys.authentication_options(ctx()))
    response = device.get(json.loads(ceremony.options_json))
    assert isinstance(attempt(ceremony.token, response), passkeys.Asserted)
    assert isinstance(attempt(ceremony.token, response), PasskeyRefused)
    # the challenge row is gone, not merely marked
    assert query(PasskeyChallenge.count()) == 0


def test_27_a_failed_verification_still_spends_the_challenge(member, device):
    enrol(member, device)
    ceremony = run(passkeys.authentication_options(ctx()))
    options = json.loads(ceremony.options_json)
    assert isinstance(attempt(ceremony.token, device.get(options, uv=False)), PasskeyRefused)
    assert isinstance(attempt(ceremony.token, device.get(options)), PasskeyRefused)


def test_28_a_challenge_of_another_session_or_ceremony_is_refused(member, device):
    enrol(member, device)
    mine = run(passkeys.authentication_options(ctx()))
    theirs = run(passkeys.authentication_options(ctx()))
    signed_for_theirs = device.get(json.loads(theirs.options_json))
    assert isinstance(attempt(mine.token, signed_for_theirs), PasskeyRefused)
    registration = run(passkeys.registration_options(member, ctx()))
    signed_for_registration = device.get({"challenge": json.loads(registration.options_json)["challenge"],
                                          "rpId": RP.rp_id})
    assert isinstance(attempt(registration.token, signed_for_registration), PasskeyRefused)
    # a sign-in token cannot finish a registration either
    other = SoftAuthenticator(origin=ORIGIN)
    login_ceremony = run(passkeys.authentication_options(ctx()))
    fake = other.create({**json.loads(registration.options_json), "challenge": json.loads(login_ceremony.options_json)["challenge"]})
    with pytest.raises(PasskeyRefused):
        run(passkeys.register(member, login_ceremony.token, json.dumps(fake), name="x", user_agent="", ctx=ctx()))


def test_29_an_expired_challenge_is_refused(member, device):
    enrol(member, device)
    ceremony = run(passkeys.authentication_options(ctx()))
    response = device.get(json.loads(ceremony.options_json))
    late = NOW + timedelta(seconds=PasskeyPolicy().passkey_challenge_ttl_seconds)
    assert isinstance(attempt(ceremony.token, response, now=late), PasskeyRefused)


@pytest.mark.parametrize("bend", [
    {"origin": "https://evil.example"},
    {"origin": "http://testserver.local:8000"},
    {"origin": "https://testserver.local"},
    {"rp_id": "evil.example"},
], ids=["foreign", "port", "scheme", "rp-id-hash"])
def test_30_wrong_origin_or_rp_id_is_refused(member, device, bend):
    enrol(member, device)
    view = run(passkeys.list_passkeys(member))[0]
    ceremony = run(passkeys.authentication_options(ctx()))
    response = device.get(json.loads(ceremony.options_json), credential_id=next(iter(device.credentials)), **bend)
    assert isinstance(attempt(ceremony.token, response), PasskeyRefused)
    assert run(passkeys.list_passkeys(member))[0].last_used_at == view.last_used_at


def test_31_user_verification_is_required_for_sign_in_and_registration(member, device):
    enrol(member, device)
    outcome, _ = login(device, uv=False)
    assert isinstance(outcome, PasskeyRefused)
    ceremony = run(passkeys.registration_options(member, ctx()))
    response = SoftAuthenticator(origin=ORIGIN, uv=False).create(json.loads(ceremony.options_json))
    with pytest.raises(PasskeyRefused):
        run(passkeys.register(member, ceremony.token, json.dumps(response), name="", user_agent="", ctx=ctx()))
    assert query(Passkey.count()) == 1


def _mangle(response: dict, field: str, value) -> dict:
    bent = json.loads(json.dumps(response))
    bent["response"][field] = value
    return bent


@pytest.mark.parametrize("bad", [
    "not json", "[]", "{}", "null", '{"id": 1}',
    "bogus-signature", "garbage-signature", "bad-base64", "bad-cbor-authdata", "short-authdata",
    "client-data-not-json", "wrong-type", "id-mismatch",
])
def test_32_bogus_or_malformed_responses_are_refused_cleanly(member, device, bad):
    enrol(member, device)
    ceremony = run(passkeys.authentication_options(ctx()))
    options = json.loads(ceremony.options_json)
    good = device.get(options)
    body: dict | str = {
        "bogus-signature": lambda: device.get(options, bogus_signature=True),
        "garbage-signature": lambda: _mangle(good, "signature", b64url(b"\x30\x02\x01")),
        "bad-base64": lambda: _mangle(good, "authenticatorData", "!!!*"),
        "bad-cbor-authdata": lambda: _mangle(good, "authenticatorData", b64url(b"\xff" * 40)),
        "short-authdata": lambda: _mangle(good, "authenticatorData", b64url(b"\x00" * 5)),
        "client-data-not-json": lambda: _mangle(good, "clientDataJSON", b64url(b"\xff\xfe")),
        "wrong-type": lambda: {**good, "type": "password"},
        "id-mismatch": lambda: {**good, "id": b64url(b"other")},
    }.get(bad, lambda: bad)()
    assert isinstance(attempt(ceremony.token, body), PasskeyRefused)


def test_32_malformed_registration_responses_are_refused(member):
    for body in ("{}", "[1]", json.dumps({"id": "a", "rawId": "a", "type": "public-key",
                                          "response": {"clientDataJSON": "!!", "attestationObject": "??"}})):
        ceremony = run(passkeys.registration_options(member, ctx()))
        with pytest.raises(PasskeyRefused):
            run(passkeys.register(member, ceremony.token, body, name="", user_agent="", ctx=ctx()))


def test_33_foreign_user_handle_unknown_and_removed_credentials_are_refused_alike(settings, member, device):
    enrol(member, device)
    other_member = make_member(settings, card_number="9876543210", web_id="hanako2024")
    enrol(other_member, SoftAuthenticator(origin=ORIGIN))
    other_handle = query(PasskeyUser.select().where(PasskeyUser.member == other_member).first())["user_handle"]
    stranger = SoftAuthenticator(origin=ORIGIN)  # a passkey this site never registered
    stranger.create({"rp": {"id": RP.rp_id}, "user": {"id": b64url(b"x" * 32)}, "challenge": b64url(b"c" * 32)})
    refusals = [
        login(device, user_handle=unb64url(other_handle))[0],
        login(device, user_handle=None)[0],
        login(stranger)[0],
    ]
    passkey_id = run(passkeys.list_passkeys(member))[0].id
    run(passkeys.remove(member, passkey_id, ctx()))
    refusals.append(login(device)[0])
    assert all(isinstance(r, PasskeyRefused) for r in refusals)
    assert len({str(r) for r in refusals}) == 1


def test_34_excluded_and_duplicate_credentials_are_refused(member, device):
    enrol(member, device)
    ceremony = run(passkeys.registration_options(member, ctx()))
    options = json.loads(ceremony.options_json)
    with pytest.raises(ExcludedCredential):
        device.create(options)
    duplicate = device.create(options, again=next(iter(device.credentials)))
    with pytest.raises(PasskeyError):
        run(passkeys.register(member, ceremony.token, json.dumps(duplicate), name="", user_agent="", ctx=ctx()))
    assert query(Passkey.count()) == 1


@pytest.mark.parametrize("regressed", [0, 2, 5], ids=["to-zero", "lower", "same"])
def test_35_a_sign_count_that_does_not_go_up_is_refused(member, device, regressed):
    enrol(member, device)
    for _ in range(5):
        assert isinstance(login(device)[0], passkeys.Asserted)
    outcome, _ = login(device, sign_count=regressed)
    assert isinstance(outcome, SignCountRegressed)
    assert query(Passkey.select(Passkey.sign_count).first())["sign_count"] == 5
    assert isinstance(login(device)[0], passkeys.Asserted)  # the genuine authenticator goes on working


def test_step_up_accepts_only_the_members_own_passkeys(settings, member, device):
    enrol(member, device)
    other_member = make_member(settings, card_number="9876543210", web_id="hanako2024")
    other = SoftAuthenticator(origin=ORIGIN)
    enrol(other_member, other)
    ceremony = run(passkeys.authentication_options(ctx(), member_id=member))
    options = json.loads(ceremony.options_json)
    assert [c["id"] for c in options["allowCredentials"]] == [b64url(next(iter(device.credentials)))]
    with pytest.raises(PasskeyRefused):
        run(passkeys.authenticate(ceremony.token, json.dumps(other.get({**options, "allowCredentials": []})),
                                  ctx(), member_id=member))
    ceremony = run(passkeys.authentication_options(ctx(), member_id=member))
    signed = device.get(json.loads(ceremony.options_json))
    with pytest.raises(PasskeyRefused):  # a step-up challenge cannot sign anyone in
        run(passkeys.authenticate(ceremony.token, json.dumps(signed), ctx()))
    ceremony = run(passkeys.authentication_options(ctx(), member_id=member))
    done = run(passkeys.authenticate(ceremony.token, json.dumps(device.get(json.loads(ceremony.options_json))),
                                     ctx(), member_id=member))
    assert done.member_id == member


def test_rename_and_names(member, device):
    view = enrol(member, device, name="  仕事用ｉＰｈｏｎｅ  ")
    assert view.name == "仕事用iPhone"
    assert run(passkeys.rename(member, view.id, "私物", ctx())) == "私物"
    for bad in ("", "   ", "a\u200bb", "x" * 41, "a\nb"):
        with pytest.raises(PasskeyError):
            run(passkeys.rename(member, view.id, bad, ctx()))
    with pytest.raises(PasskeyError):
        run(passkeys.rename(member + 999, view.id, "他人", ctx()))
    assert run(passkeys.list_passkeys(member))[0].name == "私物"


def test_remove_keeps_a_way_in(settings, member, device):
    view = enrol(member, device)
    query(Credential.update({Credential.locked_at: NOW}).where(Credential.member == member))
    with pytest.raises(PasskeyError, match="最後のログイン方法"):
        run(passkeys.remove(member, view.id, ctx()))
    second = enrol(member, SoftAuthenticator(origin=ORIGIN))
    assert run(passkeys.remove(member, view.id, ctx())) == view.name
    assert [v.id for v in run(passkeys.list_passkeys(member))] == [second.id]
    other_member = make_member(settings, card_number="9876543210", web_id="hanako2024")
    with pytest.raises(PasskeyError):
        run(passkeys.remove(other_member, second.id, ctx()))


def test_two_removals_at_once_still_leave_a_way_in(member):
    """Both passkeys removed at the same moment (two tabs), PIN and password locked: one removal must lose."""
    first, second = (enrol(member, SoftAuthenticator(origin=ORIGIN)) for _ in range(2))
    query(Credential.update({Credential.locked_at: NOW}).where(Credential.member == member))

    async def race():
        return await asyncio.gather(passkeys.remove(member, first.id, ctx()), passkeys.remove(member, second.id, ctx()),
                                    return_exceptions=True)

    outcomes = run(race())
    assert sum(isinstance(o, PasskeyError) for o in outcomes) == 1, outcomes
    assert query(Passkey.count().where(Passkey.member == member)) == 1


def test_a_member_may_hold_a_limited_number_of_passkeys(member):
    for _ in range(2):
        ceremony = run(passkeys.registration_options(member, ctx(passkeys_max=2)))
        response = SoftAuthenticator(origin=ORIGIN).create(json.loads(ceremony.options_json))
        run(passkeys.register(member, ceremony.token, json.dumps(response), name="", user_agent="", ctx=ctx(passkeys_max=2)))
    with pytest.raises(PasskeyError, match="2個まで"):
        run(passkeys.registration_options(member, ctx(passkeys_max=2)))
