#!/usr/bin/env bash
# Renders docs/tracking-page.png: the citizens' tracking page of an answered, rated question at
# a phone's width, taken by the browser test in tests/api/tracking_page.rs (headless Chromium
# through chromedriver; apt-get install --no-install-recommends chromium chromium-driver).
set -euo pipefail
cd "$(dirname "$0")/.."
PORTAL_SCREENSHOT_DIR="$PWD/docs" PORTAL_TEST_REQUIRE_CHROMIUM=1 \
  cargo test --test api \
  tracking_page::a_citizen_follows_the_link_reads_the_answer_and_rates_it_in_a_browser \
  -- --exact --nocapture
