// The error paths a person meets in the console: a seat taken meanwhile, a declined card, a session that
// ended, and a form the API refuses field by field. Each is checked through the API too.
import { expect, test } from "@playwright/test";
import { call, clickSeat, member, onSale, reconcile, uiLogin, until } from "./helpers";

test("a seat taken meanwhile is named, the map refreshed and the seat dropped; the rest can still be bought", async ({
  page,
}) => {
  const organizer = await member("ORGANIZER");
  const { performanceId, showtimeId } = await onSale(organizer);
  const buyer = await member("USER");
  const rival = await member("USER");
  await uiLogin(page, buyer);
  await page.goto(`performances/${performanceId}/showtimes/${showtimeId}`);
  await clickSeat(page, 2, 1);
  await clickSeat(page, 2, 2);
  await expect(page.getByTestId("selection").getByRole("listitem")).toHaveCount(2);
  // Meanwhile someone else takes row 2, seat 2.
  const taken = await call("POST", "/reservations", rival.token, { showtimeId, seats: [{ row: 2, col: 2 }] });
  expect(taken.status, JSON.stringify(taken.json)).toBe(201);
  await page.getByRole("button", { name: /^Pay / }).click();
  await expect(page.getByTestId("lost-seats")).toContainText("row 2 seat 2");
  await expect(page.getByRole("alert").filter({ hasText: /seat/i }).first()).toBeVisible();
  await expect(page.getByTestId("selection").getByRole("listitem")).toHaveCount(1);
  await expect(page.getByTestId("selection")).toContainText("Row 2, seat 1");
  // The refreshed map shows the lost seat as taken.
  const map = page.getByRole("application", { name: /Seat map/ });
  await map.focus();
  await map.press("ArrowLeft");
  await map.press("ArrowRight");
  await expect(page.getByTestId("seat-cursor")).toContainText("Row 2, seat 2");
  await expect(page.getByTestId("seat-cursor")).toContainText("held");
  // Nothing was held for the buyer by the refused attempt; the remaining seat is bought.
  const none = await call("GET", "/reservations", buyer.token);
  expect(none.json.items).toHaveLength(0);
  await page.getByRole("button", { name: "Pay ₩150,000" }).click();
  await expect(page.getByTestId("outcome")).toHaveAttribute("data-status", "CONFIRMED");
  await call("DELETE", `/reservations/${taken.json.id}`, rival.token);
  await reconcile(performanceId, showtimeId);
});

test("a declined card shows why, and nothing is charged", async ({ page }) => {
  const organizer = await member("ORGANIZER");
  const { performanceId, showtimeId } = await onSale(organizer);
  const buyer = await member("USER");
  await uiLogin(page, buyer);
  await page.goto(`performances/${performanceId}/showtimes/${showtimeId}`);
  await clickSeat(page, 4, 4);
  await page.getByLabel("Test card").selectOption("tok_chargeDeclined");
  await page.getByRole("button", { name: "Pay ₩90,000" }).click();
  const outcome = page.getByTestId("outcome");
  await expect(outcome).toHaveAttribute("data-status", "FAILED");
  await expect(page.getByTestId("failure-reason")).toContainText("card_declined");
  const list = await call("GET", "/reservations", buyer.token);
  expect(list.json.items[0]).toMatchObject({ status: "FAILED", failureReason: "card_declined" });
  const pay = await call("GET", `/reservations/${list.json.items[0].id}/payment`, buyer.token);
  expect(pay.json).toMatchObject({ status: "FAILED", failureReason: "card_declined" });
  const seats = await until(
    () => call("GET", `/performances/${performanceId}/showtimes/${showtimeId}/seats`),
    (m) => m.json.held === 0,
  );
  expect(seats.json).toMatchObject({ held: 0, sold: 0 });
  await reconcile(performanceId, showtimeId);
});

test("a session that ended goes back to the login, and from there back to the page", async ({ page }) => {
  const buyer = await member("USER");
  await uiLogin(page, buyer);
  await page.getByRole("link", { name: "Wallet" }).click();
  await expect(page.getByTestId("balance")).toBeVisible();
  // The token is revoked elsewhere (as an expiry or a logout on another device does).
  const token = await page.evaluate(() => JSON.parse(localStorage.getItem("ticketing.session") ?? "{}").accessToken);
  const out = await call("POST", "/logout", token);
  expect(out.status).toBe(204);
  await page.getByRole("link", { name: "My page" }).click();
  await expect(page).toHaveURL(/\/console\/login\?next=%2Fme/);
  await expect(page.getByRole("status")).toContainText("Your session has ended");
  await page.getByLabel("Email").fill(buyer.email);
  await page.getByLabel("Password").fill(buyer.password);
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page).toHaveURL(/\/console\/me$/);
  await expect(page.getByRole("heading", { name: "My page" })).toBeVisible();
});

test("a form the API refuses shows each field's message beside it", async ({ page }) => {
  const organizer = await member("ORGANIZER");
  await uiLogin(page, organizer);
  await page.goto("organizer/new");
  await page.getByLabel("Title").fill("Backwards dates");
  await page.getByLabel("Venue").fill("Hall");
  await page.getByLabel("First day").fill("2027-03-10");
  await page.getByLabel("Last day").fill("2027-03-01");
  await page.getByLabel("Sale opens (Korean time)").fill("2027-01-01T10:00");
  await page.getByLabel("Sale closes (Korean time)").fill("2026-12-01T10:00");
  await page.getByRole("button", { name: "Create performance" }).click();
  await expect(page.locator("[data-problem-type='/problems/unprocessable']")).toBeVisible();
  const lastDay = page.getByLabel("Last day");
  await expect(lastDay).toHaveAttribute("aria-invalid", "true");
  await expect(page.getByRole("alert").filter({ hasText: "must not be before runStartDate" }).first()).toBeVisible();
  await expect(page.getByLabel("Sale closes (Korean time)")).toHaveAttribute("aria-invalid", "true");
  await expect(page.getByText("must be after saleOpensAt").first()).toBeVisible();
  // Nothing was created.
  const mine = await call("GET", "/organizer/performances", organizer.token);
  expect(mine.json.items).toHaveLength(0);
});
