// Settlement through the console: an organizer reads the day's statement after it closed and downloads its
// CSV (the same figures as the API's JSON); an admin records the payout with its reference, and the API says
// the statement is PAID with it.
import { expect, test } from "@playwright/test";
import { readFileSync } from "node:fs";
import { accessible, call, member, onSale, reconcile, screenshot, uiLogin, until, walletMatchesLedger, ADMIN } from "./helpers";

/** Today in Korea, YYYY-MM-DD: the day of a statement. */
const koreanDay = () => new Date(Date.now() + 9 * 3600_000).toISOString().slice(0, 10);

/** A Step Functions call to LocalStack (the stack's outputs are at TICKETING_OUTPUTS). */
async function sfn(target: string, body: unknown) {
  const outputs = JSON.parse(readFileSync(process.env.TICKETING_OUTPUTS ?? "", "utf8"));
  const res = await fetch(outputs.endpoint, {
    method: "POST",
    headers: { "content-type": "application/x-amz-json-1.0", "x-amz-target": `AWSStepFunctions.${target}` },
    body: JSON.stringify(body),
  });
  expect(res.status, await res.clone().text()).toBe(200);
  return { outputs, json: await res.json() };
}

/** Closes `organizerId`'s statements of `day` now, through the settlement machine (a test stack closes early). */
async function closeDay(day: string, organizerId: string) {
  const outputs = JSON.parse(readFileSync(process.env.TICKETING_OUTPUTS ?? "", "utf8"));
  const { json } = await sfn("StartExecution", {
    stateMachineArn: outputs.outputs.SettlementStateMachineArn,
    name: `console-settle-${Date.now()}`,
    input: JSON.stringify({ day, organizerId, force: true, cursor: "" }),
  });
  const done = await until(
    async () => (await sfn("DescribeExecution", { executionArn: json.executionArn })).json.status as string,
    (s) => s !== "RUNNING",
    60_000,
  );
  expect(done).toBe("SUCCEEDED");
}

test("an organizer reads a closed statement and its CSV; an admin records the payout", async ({ page, browser }) => {
  const organizer = await member("ORGANIZER");
  const { performanceId, showtimeId } = await onSale(organizer);
  const buyer = await member("USER");
  expect((await call("POST", "/wallet/charge", buyer.token, { amount: 1_000_000, payment: { token: "tok_visa" } })).status).toBe(201);
  const held = await call(
    "POST",
    "/reservations",
    buyer.token,
    { showtimeId, seats: [{ row: 1, col: 1 }, { row: 1, col: 2 }], payment: { method: "WALLET" } },
    { prefer: "wait=10" },
  );
  expect([201, 202], JSON.stringify(held.json)).toContain(held.status);
  const paid = await until(
    async () => (await call("GET", `/reservations/${held.json.id}`, buyer.token)).json,
    (r) => r.status === "CONFIRMED",
  );
  const day = koreanDay();
  const id = `${day}_KRW_${organizer.id}`;
  await until(
    async () => await call("GET", `/organizer/settlements/${id}`, organizer.token),
    (r) => r.status === 200 && r.json.totals?.gross === paid.totalPrice,
  );
  await closeDay(day, organizer.id);
  const closed = (await call("GET", `/organizer/settlements/${id}`, organizer.token)).json;
  expect(closed.status).toBe("CLOSED");

  // The organizer finds it from the navigation, reads it, and downloads its CSV.
  await uiLogin(page, organizer);
  await page.getByRole("link", { name: "Settlements" }).click();
  const row = page.locator(`tr[data-settlement-id="${id}"]`);
  await expect(row).toHaveAttribute("data-status", "CLOSED");
  await expect(row.getByTestId("net-payable")).not.toHaveText("—");
  await row.getByRole("link", { name: new RegExp(day) }).click();
  await expect(page.getByRole("heading", { name: new RegExp(`Statement ${day}`) })).toBeVisible();
  const line = page.locator(`tr[data-showtime-id="${showtimeId}"]`);
  await expect(line).toBeVisible();
  await accessible(page);
  await screenshot(page, "settlement-organizer");
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Download CSV" }).click()]);
  const csv = readFileSync(await download.path(), "utf8");
  const [header, ...rows] = csv.split("\r\n").filter((r) => r);
  const columns = header.split(",");
  expect(rows).toHaveLength(closed.lines.length);
  rows.forEach((r, i) => {
    const cells = Object.fromEntries(r.split(",").map((v, k) => [columns[k], v]));
    const l = closed.lines[i];
    expect(cells).toMatchObject({
      settlementId: id,
      status: "CLOSED",
      showtimeId: l.showtimeId,
      gross: String(l.gross),
      refunds: String(l.refunds),
      commission: String(l.commission),
      netPayable: String(l.netPayable),
    });
  });

  // An admin records the payout from the payouts page.
  const context = await browser.newContext();
  const adminPage = await context.newPage();
  await uiLogin(adminPage, ADMIN);
  await adminPage.getByRole("link", { name: "Payouts" }).click();
  await adminPage.getByLabel("Organizer id").fill(organizer.id);
  await adminPage.getByRole("button", { name: "Search" }).click();
  const toPay = adminPage.locator(`tr[data-settlement-id="${id}"]`);
  await expect(toPay).toHaveAttribute("data-status", "CLOSED");
  const reference = `wire-${Date.now()}`;
  await toPay.getByLabel("Transfer reference").fill(reference);
  await toPay.getByRole("button", { name: "Record payout" }).click();
  await expect(adminPage.locator(`tr[data-settlement-id="${id}"]`)).toHaveAttribute("data-status", "PAID");
  await expect(adminPage.locator(`tr[data-settlement-id="${id}"]`)).toContainText(reference);
  await screenshot(adminPage, "settlement-admin-paid");
  const after = (await call("GET", `/organizer/settlements/${id}`, organizer.token)).json;
  expect(after).toMatchObject({ status: "PAID", payoutReference: reference, totals: closed.totals });
  await context.close();
  await reconcile(performanceId, showtimeId);
  await walletMatchesLedger(buyer);
});
