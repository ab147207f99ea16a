// A whole sale through the console alone, as the people who use it: an organizer creates a performance with
// two grades and a showtime, an admin approves it, one buyer picks two seats and pays by card, another tops
// up the wallet and pays with points, the organizer's dashboard shows the seats sold and the revenue, a buyer
// cancels one seat after seeing the quote and the admin finds that payment PART_CANCELED with the refunded
// amount, and the organizer cancels the showtime and watches the sweep reach done. Each step is checked
// through the API too, and the money reconciles at the end.
import { expect, test, type Page } from "@playwright/test";
import {
  accessible,
  ADMIN,
  call,
  clickSeat,
  login,
  reconcile,
  screenshot,
  unique,
  until,
  walletMatchesLedger,
  type Member,
} from "./helpers";

test.describe.configure({ mode: "serial" });

const title = `Console Live ${unique()}`;
let organizer: Member;
let performanceId = "";
let showtimeId = "";
const buyers: Record<string, Member> = {};
let cardReservation = "";

async function signUp(page: Page, role: "buyer" | "organizer", name: string): Promise<Member> {
  const email = `ui-${role}-${unique()}@ticketing.test`;
  const password = `pw-${unique()}-long`;
  await page.goto("signup");
  await page.evaluate(() => localStorage.setItem("ticketing.locale", "en"));
  await page.goto("signup");
  await page.getByLabel("Name").fill(name);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  if (role === "organizer") await page.getByLabel("sell tickets for my shows (organizer)").check();
  await page.getByRole("button", { name: "Create my account" }).click();
  await expect(page.getByTestId("who")).toContainText(email);
  return login(email, password);
}

/** The catalog's link to `title`, paging with "More" as a person would (the catalog is sorted by run). */
async function findInCatalog(page: Page, title: string) {
  const link = page.getByRole("link", { name: title });
  const cards = page.locator("ul.cards > li");
  await expect(cards.first()).toBeVisible();
  for (let i = 0; i < 100 && (await link.count()) === 0; i++) {
    const shown = await cards.count();
    await page.getByRole("button", { name: "More" }).click();
    await expect.poll(() => cards.count()).toBeGreaterThan(shown);
  }
  return link;
}

async function uiLogin(page: Page, email: string, password: string) {
  await page.goto("login");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page.getByTestId("who")).toContainText(email);
  // Members read the console in their own language; these tests read it in English.
  const lang = page.getByRole("combobox", { name: /Language|언어/ });
  if ((await lang.inputValue()) !== "en") await lang.selectOption("en");
}

test("an organizer creates a performance with two grades and a showtime; an admin approves it", async ({ page }) => {
  organizer = await signUp(page, "organizer", "Stage Co");
  await expect(page).toHaveURL(/\/console\/organizer$/);
  await page.getByRole("link", { name: "New performance" }).click();
  await page.getByLabel("Title").fill(title);
  await page.getByLabel("Description").fill("An evening of songs.");
  await page.getByLabel("Venue").fill("Olympic Hall");
  await accessible(page);
  await screenshot(page, "organizer-new-performance");
  await page.getByRole("button", { name: "Create performance" }).click();
  await expect(page.getByRole("heading", { level: 1, name: title })).toBeVisible();
  await expect(page.getByTestId("review-state")).toContainText("PENDING_APPROVAL");
  performanceId = page.url().split("/").pop() ?? "";

  await page.getByRole("button", { name: "Add a showtime" }).click();
  await page.getByLabel("Hall").fill("Main hall");
  await page.getByLabel("Rows").fill("8");
  await page.getByLabel("Seats per row").fill("12");
  const grades = page.getByRole("region", { name: "New showtime" });
  await grades.getByTestId("grade-0").getByLabel("To row").fill("3");
  await grades.getByTestId("grade-1").getByLabel("From row").fill("4");
  await grades.getByTestId("grade-1").getByLabel("To row").fill("8");
  await expect(page.getByRole("application", { name: "Seat map preview" })).toBeVisible();
  await accessible(page);
  await screenshot(page, "organizer-showtime-editor");
  await page.getByRole("button", { name: "Create the showtime" }).click();
  await expect(page.getByRole("link", { name: /Main hall/ })).toBeVisible();

  // Through the API: the performance and its showtime are there as typed.
  const perf = await call("GET", `/performances/${performanceId}`, organizer.token);
  expect(perf.status).toBe(200);
  expect(perf.json.title).toBe(title);
  expect(perf.json.status).toBe("PENDING_APPROVAL");
  const shows = await call("GET", `/performances/${performanceId}/showtimes`, organizer.token);
  expect(shows.json.items).toHaveLength(1);
  showtimeId = shows.json.items[0].id;
  expect(shows.json.items[0].seatMap).toMatchObject({
    rows: 8,
    cols: 12,
    grades: [
      { grade: "VIP", fromRow: 1, toRow: 3, price: 150000 },
      { grade: "R", fromRow: 4, toRow: 8, price: 90000 },
    ],
  });

  // The admin approves it from the review queue.
  await page.getByRole("button", { name: "Log out" }).click();
  await uiLogin(page, ADMIN.email, ADMIN.password);
  await page.goto("admin");
  const card = page.getByRole("listitem", { name: title });
  await expect(card).toBeVisible();
  await accessible(page);
  await screenshot(page, "admin-review-queue");
  await card.getByRole("button", { name: "Approve" }).click();
  await expect(card).toBeHidden();
  const approved = await call("GET", `/performances/${performanceId}`);
  expect(approved.json.status).toBe("APPROVED");
});

test("one buyer pays two seats by card, another tops up and pays with points; the dashboard shows them sold", async ({
  page,
}) => {
  // Buyer 1 finds the show in the catalog and picks two VIP seats with the mouse.
  buyers.card = await signUp(page, "buyer", "Card Buyer");
  await page.goto("");
  await page.getByRole("button", { name: "CONCERT" }).click();
  await (await findInCatalog(page, title)).click();
  await accessible(page);
  await page.getByRole("link", { name: "Pick seats" }).click();
  await expect(page.getByRole("application", { name: /Seat map/ })).toBeVisible();
  await clickSeat(page, 1, 5);
  await clickSeat(page, 1, 6);
  await expect(page.getByTestId("selection").getByRole("listitem")).toHaveCount(2);
  await expect(page.getByTestId("total")).toHaveText("₩300,000");
  await accessible(page);
  await screenshot(page, "buyer-seat-picker");
  await page.getByRole("button", { name: "Pay ₩300,000" }).click();
  const outcome = page.getByTestId("outcome");
  await expect(outcome).toHaveAttribute("data-status", "CONFIRMED");
  await expect(outcome).toContainText("Booked!");
  await screenshot(page, "buyer-booked");
  const mine = await call("GET", "/reservations?status=CONFIRMED", buyers.card.token);
  const r1 = mine.json.items.find((r: any) => r.showtimeId === showtimeId);
  expect(r1.seats.map((s: any) => [s.row, s.col])).toEqual([
    [1, 5],
    [1, 6],
  ]);
  cardReservation = r1.id;
  const pay1 = await call("GET", `/reservations/${r1.id}/payment`, buyers.card.token);
  expect(pay1.json).toMatchObject({ status: "COMPLETED", method: "CARD", amount: 300000 });

  // Buyer 2 tops up the wallet, then picks an R seat from the keyboard and pays with points.
  await page.getByRole("button", { name: "Log out" }).click();
  buyers.wallet = await signUp(page, "buyer", "Wallet Buyer");
  await page.getByRole("link", { name: "Wallet" }).click();
  await page.getByLabel("Points").fill("100000");
  await page.getByRole("button", { name: "Top up" }).last().click();
  await expect(page.getByTestId("balance")).toHaveText("₩100,000");
  await accessible(page);
  await screenshot(page, "buyer-wallet");
  await page.goto(`performances/${performanceId}/showtimes/${showtimeId}`);
  const map = page.getByRole("application", { name: /Seat map/ });
  await map.focus();
  for (let i = 0; i < 4; i++) await map.press("ArrowDown"); // row 5
  for (let i = 0; i < 2; i++) await map.press("ArrowRight"); // seat 3
  await expect(page.getByTestId("seat-cursor")).toContainText("Row 5, seat 3");
  await map.press("Enter");
  await expect(page.getByTestId("total")).toHaveText("₩90,000");
  await page.getByLabel("Wallet points").check();
  await page.getByRole("button", { name: "Pay ₩90,000" }).click();
  await expect(page.getByTestId("outcome")).toHaveAttribute("data-status", "CONFIRMED");
  const w = await call("GET", "/wallet", buyers.wallet.token);
  expect(w.json.balance).toBe(10000);
  await walletMatchesLedger(buyers.wallet);

  // The organizer's dashboard: three seats sold, the revenue of both sales.
  await page.getByRole("button", { name: "Log out" }).click();
  await uiLogin(page, organizer.email, organizer.password);
  await page.goto(`organizer/performances/${performanceId}/showtimes/${showtimeId}`);
  await expect(page.getByTestId("sold")).toHaveText("3");
  await expect(page.getByTestId("revenue")).toHaveText("₩390,000");
  await expect(page.getByTestId("reservations").getByRole("row")).toHaveCount(3);
  await accessible(page);
  await screenshot(page, "organizer-dashboard");
  const sales = await call("GET", `/performances/${performanceId}/reservations`, organizer.token);
  expect(sales.json.showtimes[0]).toMatchObject({ sold: 3, revenue: 390000 });
  await reconcile(performanceId, showtimeId);
});

test("a buyer cancels one seat after the quote; the admin finds the payment PART_CANCELED", async ({ page }) => {
  await uiLogin(page, buyers.card.email, buyers.card.password);
  await page.getByRole("link", { name: "My page" }).click();
  await page.getByRole("link", { name: title }).click();
  await expect(page.getByTestId("reservation-status")).toContainText("CONFIRMED");
  await page.getByLabel("Row 1, seat 6").check();
  await page.getByRole("button", { name: "What would cancelling these cost?" }).click();
  const quote = page.getByTestId("quote");
  await expect(quote).toContainText("Refund: ₩150,000");
  await accessible(page);
  await screenshot(page, "buyer-cancel-quote");
  await quote.getByRole("button", { name: "Confirm the cancellation" }).click();
  await expect(page.getByTestId("refunded")).toHaveText("₩150,000");
  await expect(page.getByTestId("timeline")).toContainText("RefundIssued");

  const pay = await until(
    () => call("GET", `/reservations/${cardReservation}/payment`, buyers.card.token),
    (r) => r.json.status === "PART_CANCELED",
  );
  expect(pay.json).toMatchObject({ status: "PART_CANCELED", refundedAmount: 150000 });

  await page.getByRole("button", { name: "Log out" }).click();
  await uiLogin(page, ADMIN.email, ADMIN.password);
  await page.getByRole("link", { name: "Payments" }).click();
  await page.getByLabel("Status").selectOption("PART_CANCELED");
  await page.getByLabel("Performance id").fill(performanceId);
  await page.getByRole("button", { name: "Search" }).click();
  const row = page.locator(`tr[data-reservation-id="${cardReservation}"]`);
  await expect(row).toHaveAttribute("data-status", "PART_CANCELED");
  await expect(row.getByTestId("refunded")).toHaveText("₩150,000");
  await accessible(page);
  await screenshot(page, "admin-payments");
  await reconcile(performanceId, showtimeId);
});

test("the organizer cancels the showtime and watches the progress reach done", async ({ page }) => {
  await uiLogin(page, organizer.email, organizer.password);
  await page.goto(`organizer/performances/${performanceId}/showtimes/${showtimeId}`);
  await page.getByLabel("Reason (shown to buyers)").fill("The artist is ill");
  page.once("dialog", (d) => void d.accept());
  await page.getByRole("button", { name: "Cancel the showtime and refund everyone" }).click();
  const sweep = page.getByTestId("sweep");
  await expect(sweep).toHaveAttribute("data-status", "DONE", { timeout: 60_000 });
  await expect(sweep).toContainText("2 reservations cancelled");
  await screenshot(page, "organizer-showtime-cancelled");
  const progress = await call(
    "GET",
    `/performances/${performanceId}/showtimes/${showtimeId}/cancellation`,
    organizer.token,
  );
  expect(progress.json).toMatchObject({ status: "DONE", cancelled: 2 });
  const map = await call("GET", `/performances/${performanceId}/showtimes/${showtimeId}/seats`);
  expect(map.json.sold).toBe(0);
  await reconcile(performanceId, showtimeId);
  await walletMatchesLedger(buyers.wallet);
  const w = await call("GET", "/wallet", buyers.wallet.token);
  expect(w.json.balance).toBe(100000);
});
