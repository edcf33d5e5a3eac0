"""Locust users for the representatives' load benchmark (bench/reps_load.py starts Locust with this file).

The fixture file named by REPS_LOAD_FIXTURE holds the personal links the store was seeded with
and each one's last four digits. Each Locust user plays one representative after another, one
every REPS_LOAD_PACING seconds: a fresh phone each time (no cookie, a new connection, an address
of its own through the server's trusted proxy, X-Forwarded-For, so the limits per address apply
as they would to phones on the internet) opens the link, answers the last four, opens the
correction form and sends it. A few users paced so replace one user per representative: Locust
spawning hundreds of users in a minute would time its own start-up along with the server.
"""

from __future__ import annotations

import json
import os
import re

from locust import HttpUser, constant_pacing, task
from locust.exception import StopUser

FIXTURE = json.loads(open(os.environ["REPS_LOAD_FIXTURE"], encoding="utf-8").read())
LINKS = list(FIXTURE["links"])
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


PACING = float(os.environ.get("REPS_LOAD_PACING", "4"))


class Representative(HttpUser):
    wait_time = constant_pacing(PACING)

    def next_phone(self) -> None:
        if not LINKS:
            raise StopUser()
        self.n, self.token, self.digits, self.phone = LINKS.pop(0)
        self.client.close()
        self.client.cookies.clear()
        self.client.headers["X-Forwarded-For"] = f"10.{self.n // 65536 % 256}.{self.n // 256 % 256}.{self.n % 256}"

    def step(self, name: str, method: str, path: str, expect: str, **kwargs) -> str | None:
        """One timed request (redirects followed); a failure unless it answers 200 with `expect`."""
        with self.client.request(method, path, name=name, catch_response=True, **kwargs) as response:
            if response.status_code != 200 or expect not in response.text:
                response.failure(f"{response.status_code}: {response.text[:160]}")
                return None
            return response.text

    @task
    def journey(self) -> None:
        self.next_phone()
        page = self.step("open link", "GET", f"/m/{self.token}", 'name="digits"')
        form = page and CSRF.search(page)
        home = form and self.step("last four -> home", "POST", f"/m/{self.token}", "/m/edit",
                                  data={"csrf": form.group(1), "digits": self.digits})
        page = home and self.step("correction form", "GET", "/m/edit", 'name="organization"')
        form = page and CSRF.search(page)
        if form:
            self.step("send correction", "POST", "/m/edit", "已提交",
                      data={"csrf": form.group(1), "organization": f"压测新单位{self.n}", "position": "",
                            "title": "", "education": "", "phone": self.phone})
