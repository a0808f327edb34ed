"""Session lifetime (SPEC §5): an idle timeout (PORTAL_SESSION_IDLE_MINUTES, 8 h) and an absolute
lifetime (PORTAL_SESSION_MAX_HOURS, 7 days). Time travels by moving the stamps the signed session
cookie carries, the way a cookie left in a browser ages."""
import time

import pytest

from portal.auth.sessions import SEEN_AT, SIGNED_IN_AT
from tests.factories import TEST_PASSWORD
from tests.helpers import sign_in

HOUR = 3600


@pytest.fixture
def signed_in(client, tenants):
    assert sign_in(client, tenants["pm"].email, TEST_PASSWORD).status_code == 302
    assert client.get("/home").status_code == 200
    return client


def age_session(client, *, idle: float = 0, since_sign_in: float | None = None) -> None:
    """Pretend the last request was ``idle`` seconds ago and the sign-in ``since_sign_in`` seconds ago."""
    now = int(time.time())
    with client.session_transaction() as session:
        session[SEEN_AT] = now - int(idle)
        session[SIGNED_IN_AT] = now - int(since_sign_in if since_sign_in is not None else idle)


def is_signed_out(response) -> bool:
    return response.status_code == 302 and "/sign-in" in response.headers["Location"]


def test_sign_in_stamps_the_session(signed_in):
    now = time.time()
    with signed_in.session_transaction() as session:
        assert abs(session[SIGNED_IN_AT] - now) < 60 and abs(session[SEEN_AT] - now) < 60


def test_a_session_idle_for_eight_hours_is_signed_out_and_its_cookie_stays_rejected(signed_in):
    age_session(signed_in, idle=8 * HOUR + 1)
    stale_cookie = signed_in.get_cookie("session").value
    assert is_signed_out(signed_in.get("/home"))
    sign_in_page = signed_in.get("/sign-in").get_data(as_text=True)
    assert "Your session has ended" in sign_in_page
    signed_in.set_cookie("session", stale_cookie)  # replaying the aged cookie does not help
    assert is_signed_out(signed_in.get("/home"))


def test_activity_keeps_a_session_alive_by_moving_its_idle_stamp(signed_in):
    age_session(signed_in, idle=8 * HOUR - 120, since_sign_in=3 * 24 * HOUR)
    assert signed_in.get("/home").status_code == 200
    with signed_in.session_transaction() as session:
        assert time.time() - session[SEEN_AT] < 60  # the idle clock restarted
        assert time.time() - session[SIGNED_IN_AT] > 3 * 24 * HOUR - 60  # the absolute one did not
    age_session(signed_in, idle=7 * HOUR, since_sign_in=3 * 24 * HOUR)
    assert signed_in.get("/home").status_code == 200


def test_a_busy_session_still_ends_seven_days_after_signing_in(signed_in):
    age_session(signed_in, idle=0, since_sign_in=7 * 24 * HOUR - 120)
    assert signed_in.get("/home").status_code == 200
    age_session(signed_in, idle=0, since_sign_in=7 * 24 * HOUR + 1)
    assert is_signed_out(signed_in.get("/home"))


def test_htmx_requests_of_an_expired_session_get_401_and_a_redirect(signed_in):
    age_session(signed_in, idle=9 * HOUR)
    response = signed_in.get("/campaigns/", headers={"HX-Request": "true"})
    assert response.status_code == 401 and response.headers["HX-Redirect"].startswith("/sign-in")


def test_idle_timeout_is_configurable(app, signed_in):
    app.config.update(SESSION_IDLE_MINUTES=15)
    age_session(signed_in, idle=14 * 60)
    assert signed_in.get("/home").status_code == 200
    age_session(signed_in, idle=16 * 60)
    assert is_signed_out(signed_in.get("/home"))


def test_absolute_lifetime_is_configurable(app, client, tenants):
    app.config.update(SESSION_MAX_HOURS=1)
    assert sign_in(client, tenants["pm"].email, TEST_PASSWORD).status_code == 302
    age_session(client, idle=0, since_sign_in=HOUR - 60)
    assert client.get("/home").status_code == 200
    age_session(client, idle=0, since_sign_in=HOUR + 1)
    assert is_signed_out(client.get("/home"))


def test_a_session_cookie_without_stamps_is_rejected(app, tenants):
    """A cookie minted before the limits existed (or by anything but sign-in) would otherwise be
    replayable forever: it is refused, so everyone signs in once more."""
    client = app.test_client()
    user = tenants["pm"]
    with client.session_transaction() as session:
        session["_user_id"] = f"{user.id}:{user.session_token}"
        session["_fresh"] = True
    assert is_signed_out(client.get("/home"))


def test_signing_in_again_after_expiry_starts_a_new_session(signed_in, tenants):
    age_session(signed_in, idle=8 * HOUR + 1)
    assert is_signed_out(signed_in.get("/home"))
    assert sign_in(signed_in, tenants["pm"].email, TEST_PASSWORD).status_code == 302
    assert signed_in.get("/home").status_code == 200
