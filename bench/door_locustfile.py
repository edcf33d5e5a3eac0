"""Locust users for the door benchmark (bench/door_load.py starts Locust with this file).

The fixture file named by DOOR_LOAD_FIXTURE holds what the store was seeded with: the poster's
activity and the persons who sign up, the door's activity, its passes and a steward's cookie.
Each sign-up and each pass is used once, as at a real venue.
"""

from __future__ import annotations

import json
import os
import secrets

from locust import HttpUser, constant_throughput, task

FIXTURE = json.loads(open(os.environ["DOOR_LOAD_FIXTURE"], encoding="utf-8").read())
SIGN_UPS = list(FIXTURE["people"])
PASSES = list(FIXTURE["passes"])
# Requests per second for one user: the benchmark's rate spread over its users.
SIGN_UP_RATE = float(os.environ.get("DOOR_LOAD_SIGN_UP_RATE", "0.4"))
CHECK_IN_RATE = float(os.environ.get("DOOR_LOAD_CHECK_IN_RATE", "0.15"))


class SignUpUser(HttpUser):
    """A phone that scanned the poster: the form, then the sign-up."""

    wait_time = constant_throughput(SIGN_UP_RATE)

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

    wait_time = constant_throughput(CHECK_IN_RATE)

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
