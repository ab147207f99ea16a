// The card provider goes down during a sale, as the people involved see it: the admin's payment-provider page
// turns to "Cards paused"; a buyer who pays by card is told that card payments are paused, keeps the seats and
// pays with points; once the provider is back the page reads "Taking cards" again. The outage is staged with
// the operator's command (`ticketing-admin provider-fault`, test stacks only). The breaker is the whole
// stack's, so this file runs after every other one (its own Playwright project).
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { expect, test } from "@playwright/test";
import { accessible, admin, call, clickSeat, member, onSale, reconcile, screenshot, uiLogin, until, walletMatchesLedger } from "./helpers";

/** `ticketing-admin provider-fault` against the stack's table (the switch is read on every provider call). */
function providerFault(flag: "--fail" | "--off") {
  const file = process.env.TICKETING_OUTPUTS;
  if (!file) throw new Error("TICKETING_OUTPUTS is not set: the outage test needs the stack's outputs");
  const outputs = JSON.parse(readFileSync(file, "utf8"));
  const bin = process.env.TICKETING_ADMIN_BIN ?? "../target/debug/ticketing-admin";
  return execFileSync(bin, ["provider-fault", "--table", outputs.outputs.TableName, flag], {
    env: {
      ...process.env,
      AWS_ENDPOINT_URL: outputs.endpoint,
      AWS_ACCESS_KEY_ID: "test",
      AWS_SECRET_ACCESS_KEY: "test",
      AWS_REGION: outputs.region ?? "us-east-1",
      AWS_EC2_METADATA_DISABLED: "true",
    },
    encoding: "utf8",
  });
}

test("a provider outage pauses cards, a buyer pays with points instead, and the breaker closes again", async ({
  page,
}) => {
  test.setTimeout(240_000);
  const organizer = await member("ORGANIZER");
  const { performanceId, showtimeId } = await onSale(organizer);
  const a = await admin();
  const buyer = await member("USER");
  const topUp = await call("POST", "/wallet/charge", buyer.token, { amount: 200000, payment: { token: "tok_visa" } });
  expect(topUp.status, JSON.stringify(topUp.json)).toBe(201);

  // The admin watches the provider: cards are being taken.
  await uiLogin(page, { email: a.email, password: a.password });
  await page.getByRole("link", { name: "Payment provider" }).click();
  await expect(page.getByTestId("breaker-state")).toHaveText("Taking cards");
  await accessible(page);
  await screenshot(page, "admin-provider-closed");

  try {
    // The provider goes down; eight card buyers try (each sale tries its card four times): the breaker opens.
    providerFault("--fail");
    const unlucky = await Promise.all(Array.from({ length: 8 }, () => member("USER")));
    await Promise.all(
      unlucky.map((m, i) =>
        call("POST", "/reservations", m.token, {
          showtimeId,
          seats: [{ row: 6, col: i + 1 }],
          payment: { method: "CARD", token: "tok_visa" },
        }),
      ),
    );
    await expect(page.getByTestId("breaker-state")).toHaveText("Cards paused", { timeout: 40_000 });
    await expect(page.getByTestId("breaker-retry")).toBeVisible();
    await screenshot(page, "admin-provider-open");
    const open = await call("GET", "/admin/payment-provider", a.token);
    expect(open.json.state).toBe("OPEN");

    // A buyer pays by card: the seats are held and the page says to pay with points or by card later.
    await page.getByRole("button", { name: "Log out" }).click();
    await uiLogin(page, buyer);
    await page.goto(`performances/${performanceId}/showtimes/${showtimeId}`);
    await clickSeat(page, 1, 1);
    await page.getByRole("button", { name: /^Pay / }).click();
    const outcome = page.getByTestId("outcome");
    await expect(outcome).toHaveAttribute("data-status", "HELD");
    await expect(page.getByTestId("pay-later")).toContainText("Card payments are paused while the payment provider recovers");
    await accessible(page);
    await screenshot(page, "buyer-pay-later");
    const held = await call("GET", "/reservations?limit=10", buyer.token);
    const r = held.json.items.find((x: any) => x.showtimeId === showtimeId);
    expect(r).toMatchObject({ status: "HELD", fallback: "PAY_LATER" });
    const none = await call("GET", `/reservations/${r.id}/payment`, buyer.token);
    expect(none.status, "no payment was started").toBe(404);

    // Points work while cards are paused.
    await expect(page.getByTestId("seat-cursor")).toContainText("held");
    await page.getByRole("button", { name: "Pay with points" }).click();
    await expect(outcome).toHaveAttribute("data-status", "CONFIRMED");
    // The map shows the seat sold at once, without a reload.
    await expect(page.getByTestId("seat-cursor")).toContainText("sold", { timeout: 5_000 });
    await screenshot(page, "buyer-paid-with-points");
    const pay = await call("GET", `/reservations/${r.id}/payment`, buyer.token);
    expect(pay.json).toMatchObject({ status: "COMPLETED", method: "WALLET" });
    await walletMatchesLedger(buyer);
  } finally {
    providerFault("--off");
  }

  // The provider is back: after the cool-down, probe payments close the breaker.
  const prober = await member("USER");
  const closed = await until(
    async () => {
      const state = await call("GET", "/admin/payment-provider", a.token);
      if (state.json.state !== "CLOSED") {
        await call(
          "POST",
          "/reservations",
          prober.token,
          { showtimeId, seats: [{ row: 5, col: 1 + Math.floor(Math.random() * 10) }], payment: { method: "CARD", token: "tok_visa" } },
          { prefer: "wait=10" },
        );
      }
      return state;
    },
    (s) => s.json.state === "CLOSED",
    120_000,
  );
  expect(closed.json.state).toBe("CLOSED");
  await page.getByRole("button", { name: "Log out" }).click();
  await uiLogin(page, { email: a.email, password: a.password });
  await page.goto("admin/payment-provider");
  await expect(page.getByTestId("breaker-state")).toHaveText("Taking cards");
  await screenshot(page, "admin-provider-recovered");
  await reconcile(performanceId, showtimeId);
});
