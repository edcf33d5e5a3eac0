"""Locust users for the door benchmark (bench/door_load.py starts Locust with this file).

The fixture file named by DOOR_LOAD_FIXTURE holds what the store was seeded with: the poster's
activity and the persons who sign up, the door's activity, its passes and a steward's cookie.
Each sign-up and each pass is used once, as at a real venue.
"""

from __future__ import annotations

import json
import os
import re
import secrets

from locust import HttpUser, constant_throughput, task

FIXTURE = json.loads(open(os.environ["DOOR_LOAD_FIXTURE"], encoding="utf-8").read())
SIGN_UPS = list(FIXTURE["people"])
PASSES = list(FIXTURE["passes"])
PHONES = list(FIXTURE.get("phones", []))
# Sign-ups or check-ins a second for one user: the benchmark's rate spread over its users.
RATE = float(os.environ.get("DOOR_LOAD_RATE", "0.4"))
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


class SignUpUser(HttpUser):
    """A phone that scanned the poster: the form, then the sign-up."""

    wait_time = constant_throughput(RATE)

    @task
    def sign_up(self) -> None:
        if not SIGN_UPS:
            return
        name, mobile = SIGN_UPS.pop()
        path = f"/_brain/signup/{FIXTURE['signup_activity']}"
        with self.client.post(path, data={"name": name, "mobile": mobile, "q_meal": "否"}, name="sign-up",
                              headers={"Origin": self.host}, catch_response=True) as response:
            if response.status_code != 200 or "sign-up has arrived" not in response.text:
                response.failure(f"{response.status_code}: {response.text[:200]}")


class CheckInUser(HttpUser):
    """A steward's phone at the door: one scanned pass, one POST with its nonce."""

    wait_time = constant_throughput(RATE)

    def on_start(self) -> None:
        self.client.cookies.set("brain_session", FIXTURE["cookie"])

    @task
    def check_in(self) -> None:
        if not PASSES:
            return
        token = PASSES.pop()
        path = f"/_brain/door/{FIXTURE['door_activity']}"
        with self.client.post(path, data={"scan": token, "nonce": secrets.token_urlsafe(12)}, name="check-in",
                              headers={"Origin": self.host}, catch_response=True) as response:
            if response.status_code != 200 or 'class="ok"' not in response.text:
                response.failure(f"{response.status_code}: {response.text[:200]}")


class PhoneSignUpUser(HttpUser):
    """A representative's phone (/m/): the personal link, the last four digits, the home page, the
    activity's page, the sign-up. Each link is used once, with a fresh session."""

    wait_time = constant_throughput(RATE)

    def _form(self, path: str, name: str) -> str | None:
        with self.client.get(path, name=name, catch_response=True) as response:
            found = CSRF.search(response.text) if response.status_code == 200 else None
            if found is None:
                response.failure(f"{response.status_code}: no form")
                return None
            return found.group(1)

    @task
    def sign_up(self) -> None:
        if not PHONES:
            return
        token, digits = PHONES.pop()
        self.client.cookies.clear()
        csrf = self._form(f"/m/{token}", "phone: link")
        if csrf is None:
            return
        with self.client.post(f"/m/{token}", data={"csrf": csrf, "digits": digits}, name="phone: confirm",
                              allow_redirects=False, catch_response=True) as response:
            if response.status_code != 303:
                response.failure(f"{response.status_code}: {response.text[:200]}")
                return
        if self._form("/m/home", "phone: home") is None:
            return
        path = f"/m/activity/{FIXTURE['phone_activity']}"
        csrf = self._form(path, "phone: activity")
        if csrf is None:
            return
        with self.client.post(path, data={"csrf": csrf, "a_meal": "1"}, name="phone sign-up",
                              allow_redirects=False, catch_response=True) as response:
            if response.status_code != 303 or "done=act_" not in response.headers.get("location", ""):
                response.failure(f"{response.status_code}: {response.text[:200]}")
