#!/usr/bin/env python3
"""Drives `thresher serve`'s page in headless Chromium (Selenium, Debian's chromium-driver) for
ServeBrowserTests: loads the page, enters a spot move per asset, asks, and prints what the page
shows as JSON: the who-fails table's rows, the counts, the range line, the answer's JSON link;
then sorts by shortfall (header click) and shows all accounts (filter), reading the table again.

usage: serve_page.py BASE_URL ASSET=PERCENT ... (exit 3: Selenium or the driver is missing)"""
import json
import shutil
import sys

try:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
    from selenium.webdriver.support.ui import Select
except ImportError as error:
    print(f"selenium is not installed ({error}); make deps-browser installs it", file=sys.stderr)
    sys.exit(3)

base, moves = sys.argv[1], [m.split("=", 1) for m in sys.argv[2:]]
driver_path = shutil.which("chromedriver") or "/usr/bin/chromedriver"
browser_path = next((p for p in map(shutil.which, ["chromium", "chromium-browser", "google-chrome"]) if p), None)
if not browser_path or not shutil.os.path.exists(driver_path):
    print("no chromium or chromedriver (apt-get install chromium chromium-driver)", file=sys.stderr)
    sys.exit(3)

options = webdriver.ChromeOptions()
options.binary_location = browser_path
for flag in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,1000"]:
    options.add_argument(flag)
driver = webdriver.Chrome(service=Service(driver_path), options=options)
try:
    wait = WebDriverWait(driver, 30)
    driver.get(base + "/")
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, '#moves input[data-asset]'))

    def table():
        rows = driver.find_elements(By.CSS_SELECTOR, "#accounts tbody tr")
        return [[cell.text for cell in row.find_elements(By.TAG_NAME, "td")] for row in rows]

    def ask(trigger):
        before = driver.find_element(By.ID, "status").text
        driver.execute_script("document.getElementById('status').textContent = 'waiting';")
        trigger()
        wait.until(lambda d: d.find_element(By.ID, "status").text.startswith("answered") or "error" in d.find_element(By.ID, "status").get_attribute("innerHTML"))

    for asset, percent in moves:
        field = driver.find_element(By.CSS_SELECTOR, f'#moves input[data-kind="spot"][data-asset="{asset}"]')
        field.clear()
        field.send_keys(percent)
    ask(lambda: driver.find_element(By.ID, "ask").click())
    first = {
        "status": driver.find_element(By.ID, "status").text,
        "rows": table(),
        "liquidated": driver.find_element(By.ID, "liquidated").text,
        "bankrupt": driver.find_element(By.ID, "bankrupt").text,
        "range": driver.find_element(By.ID, "range").text,
        "json_link": driver.find_element(By.ID, "selflink").get_attribute("href"),
    }
    ask(lambda: driver.find_element(By.CSS_SELECTOR, '#accounts th[data-sort="shortfall"]').click())
    by_shortfall = table()
    ask(lambda: Select(driver.find_element(By.ID, "filter")).select_by_value("all"))
    everyone = {"range": driver.find_element(By.ID, "range").text, "rows": len(table())}
    print(json.dumps({"first": first, "by_shortfall": by_shortfall, "all": everyone}))
finally:
    driver.quit()
