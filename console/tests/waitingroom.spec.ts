// The waiting room through the console: the organizer switches it on from the showtime's dashboard; a buyer
// who opens the seat picker gets a ticket with a place, is let in by the inlet, then picks and pays.
import { expect, test } from "@playwright/test";
import { accessible, call, clickSeat, member, onSale, reconcile, runInlet, screenshot, uiLogin, until } from "./helpers";

test("a buyer waits in the waiting room the organizer switched on, is let in, and buys", async ({ browser, page }) => {
  const organizer = await member("ORGANIZER");
  const { performanceId, showtimeId } = await onSale(organizer);
  const orgContext = await browser.newContext();
  const orgPage = await orgContext.newPage();
  await uiLogin(orgPage, organizer);
  await orgPage.goto(`organizer/performances/${performanceId}/showtimes/${showtimeId}`);
  await orgPage.getByText("Waiting room: off").click();
  await orgPage.getByLabel("Buyers let in per minute").fill("60");
  await orgPage.getByRole("button", { name: "Switch the waiting room on" }).click();
  await expect(orgPage.getByRole("status").filter({ hasText: "60 buyers let in per minute" })).toBeVisible();
  const shows = await call("GET", `/performances/${performanceId}/showtimes`);
  expect(shows.json.items[0].waitingRoom).toBe(true);
  await orgContext.close();

  const buyer = await member("USER");
  await uiLogin(page, buyer);
  await page.goto(`performances/${performanceId}/showtimes/${showtimeId}`);
  const room = page.getByTestId("waiting-room");
  await expect(room).toContainText("You are in the waiting room");
  await expect(page.getByRole("application", { name: /Seat map/ })).toHaveCount(0);
  await accessible(page);
  await screenshot(page, "buyer-waiting-room");
  // A hold without an admission is refused meanwhile (the API enforces what the page shows).
  const early = await call("POST", "/reservations", buyer.token, { showtimeId, seats: [{ row: 1, col: 1 }] });
  expect(early.status).toBe(403);
  // The inlet lets the buyer in once their second is counted; the page sees it on its next poll.
  await until(
    async () => {
      await runInlet(showtimeId);
      return room.isVisible();
    },
    (visible) => !visible,
    60_000,
  );
  await expect(page.getByRole("application", { name: /Seat map/ })).toBeVisible();
  await clickSeat(page, 1, 3);
  await page.getByRole("button", { name: "Pay ₩150,000" }).click();
  await expect(page.getByTestId("outcome")).toHaveAttribute("data-status", "CONFIRMED");
  const mine = await call("GET", "/reservations?status=CONFIRMED", buyer.token);
  expect(mine.json.items.map((r: any) => r.showtimeId)).toEqual([showtimeId]);
  await reconcile(performanceId, showtimeId);
});
