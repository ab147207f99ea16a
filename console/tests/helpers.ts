// What the browser tests share: the API (to set up data and to check that what the UI showed is really in
// the system), members, the reconciliation of money and seats, the accessibility check and screenshots.
import AxeBuilder from "@axe-core/playwright";
import { expect, type Page } from "@playwright/test";

export const API = process.env.TICKETING_API_URL ?? "http://127.0.0.1:3000";
export const ADMIN = {
  email: process.env.CONSOLE_ADMIN_EMAIL ?? "admin@ticketing.local",
  password: process.env.CONSOLE_ADMIN_PASSWORD ?? "admin-password",
};
export const SCREENS = "test-results/screens";

export const unique = () => `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;

export interface Member {
  email: string;
  password: string;
  token: string;
  id: string;
  role: string;
}

export async function call<T = any>(
  method: string,
  path: string,
  token?: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: T }> {
  const res = await fetch(`${API}${path}`, {
    method,
    headers: {
      ...(body !== undefined ? { "content-type": "application/json" } : {}),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...headers,
    },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  let json: any = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = text;
  }
  return { status: res.status, json };
}

export async function login(email: string, password: string): Promise<Member> {
  const r = await call("POST", "/login", undefined, { email, password });
  expect(r.status, JSON.stringify(r.json)).toBe(200);
  return { email, password, token: r.json.accessToken, id: r.json.memberId, role: r.json.role };
}

/** A new member made through the API (for tests whose subject is not the sign-up). */
export async function member(role: "USER" | "ORGANIZER", name = "Tester"): Promise<Member> {
  const email = `console-${role.toLowerCase()}-${unique()}@ticketing.test`;
  const password = `pw-${unique()}-secret`;
  const r = await call("POST", "/signup", undefined, { email, password, name, role, locale: "en" });
  expect(r.status, JSON.stringify(r.json)).toBe(201);
  return login(email, password);
}

export const admin = () => login(ADMIN.email, ADMIN.password);

/** Log in through the UI, as a person does. */
export async function uiLogin(page: Page, who: { email: string; password: string }) {
  await page.goto("login");
  await page.evaluate(() => localStorage.setItem("ticketing.locale", "en"));
  await page.goto("login");
  await page.getByLabel("Email").fill(who.email);
  await page.getByLabel("Password").fill(who.password);
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page.getByTestId("who")).toContainText(who.email);
  const lang = page.getByRole("combobox", { name: /Language|언어/ });
  if ((await lang.inputValue()) !== "en") await lang.selectOption("en");
}

export interface SeatMapInput {
  rows: number;
  cols: number;
  grades: { grade: string; fromRow: number; toRow: number; price: number }[];
}

/** Two grades: VIP (150,000) on the front half of the rows, R (90,000) behind. */
export function twoGrades(rows: number, cols: number): SeatMapInput {
  const vip = Math.max(1, Math.floor(rows / 2));
  const grades = [{ grade: "VIP", fromRow: 1, toRow: vip, price: 150000 }];
  if (rows > vip) grades.push({ grade: "R", fromRow: vip + 1, toRow: rows, price: 90000 });
  return { rows, cols, grades };
}

/** A performance on sale now, approved by the admin, with one showtime of this seat map. */
export async function onSale(organizer: Member, seatMap: SeatMapInput = twoGrades(6, 10), holdMinutes = 10) {
  const now = Date.now();
  const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
  const date = (days: number) => new Date(now + days * 86400_000).toISOString().slice(0, 10);
  const perf = await call("POST", "/performances", organizer.token, {
    title: `Fixture ${unique()}`,
    category: "CONCERT",
    venue: { name: "Arena", city: "Seoul" },
    runningTimeMinutes: 120,
    ageRating: "ALL",
    runStartDate: date(30),
    runEndDate: date(60),
    saleOpensAt: iso(now - 3600_000),
    saleClosesAt: iso(now + 59 * 86400_000),
    holdMinutes,
  });
  expect(perf.status, JSON.stringify(perf.json)).toBe(201);
  const show = await call("POST", `/performances/${perf.json.id}/showtimes`, organizer.token, {
    startsAt: `${date(40)}T19:30:00+09:00`,
    venueName: "Main hall",
    seatMap,
  });
  expect(show.status, JSON.stringify(show.json)).toBe(201);
  const a = await admin();
  const ok = await call("POST", `/admin/performances/${perf.json.id}/approve`, a.token);
  expect(ok.status, JSON.stringify(ok.json)).toBe(200);
  return { performanceId: perf.json.id as string, showtimeId: show.json.id as string };
}

/** Click the seat at `row`, `col` on the seat canvas (its pitch is on the scroller's `data-pitch`). */
export async function clickSeat(page: Page, row: number, col: number, label = /Seat map/) {
  const scroller = page.getByRole("application", { name: label });
  const pitch = Number(await scroller.getAttribute("data-pitch"));
  const { left, top } = await scroller.evaluate((el) => ({ left: el.scrollLeft, top: el.scrollTop }));
  await scroller.click({ position: { x: (col - 0.5) * pitch - left, y: (row - 0.5) * pitch - top } });
}

/** No serious or critical accessibility violation on the page as it stands. */
export async function accessible(page: Page) {
  const result = await new AxeBuilder({ page }).analyze();
  const bad = result.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  expect(
    bad.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).join("; ")}`),
    "serious or critical axe-core violations",
  ).toEqual([]);
}

export async function screenshot(page: Page, name: string) {
  // The viewport as the person sees it: a full-page capture resizes Chromium's viewport and back, and the
  // first click after it was seen lost (headless Chromium 156).
  await page.screenshot({ path: `${SCREENS}/${name}.png` });
}

/** Poll `read` until `done` holds (at most `ms`), then return the last value. */
export async function until<T>(read: () => Promise<T>, done: (v: T) => boolean, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  let v = await read();
  while (!done(v) && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 300));
    v = await read();
  }
  return v;
}

/**
 * Money and seats reconcile for one showtime, read through the admin's API: completed payments minus refunds
 * equal the price of the seats SOLD plus the fees kept, no seat is SOLD twice, the map's SOLD count is the
 * seats of CONFIRMED reservations, nothing is still being cancelled.
 */
export async function reconcile(performanceId: string, showtimeId: string) {
  const a = await admin();
  const list = await until(
    () => call("GET", `/admin/reservations?showtimeId=${showtimeId}&limit=100`, a.token),
    (r) => r.status === 200 && !r.json.items.some((x: any) => x.status === "HELD" || x.pendingCancellation),
  );
  expect(list.status).toBe(200);
  let kept = 0;
  let soldPrice = 0;
  let fees = 0;
  const sold = new Set<string>();
  for (const r of list.json.items) {
    expect(r.pendingCancellation ?? null, `reservation ${r.id} is still being cancelled`).toBeNull();
    const pay = await call("GET", `/reservations/${r.id}/payment`, a.token);
    if (pay.status === 200 && ["COMPLETED", "PART_CANCELED", "CANCELED"].includes(pay.json.status)) {
      kept += pay.json.amount - pay.json.refundedAmount;
    }
    for (const c of r.cancellations ?? []) if (c.status === "DONE") fees += c.quote.fee;
    if (r.status === "CONFIRMED") {
      for (const s of r.seats) {
        const key = `${s.row}-${s.col}`;
        expect(sold.has(key), `seat ${key} SOLD twice`).toBe(false);
        sold.add(key);
        soldPrice += s.price;
      }
    }
  }
  const map = await call("GET", `/performances/${performanceId}/showtimes/${showtimeId}/seats`);
  expect(map.json.sold, "SOLD on the map = seats of CONFIRMED reservations").toBe(sold.size);
  expect(kept, "payments kept = price of the seats SOLD + fees kept").toBe(soldPrice + fees);
}

/** A member's wallet balance equals the sum of its ledger. */
export async function walletMatchesLedger(m: Member) {
  let cursor: string | undefined;
  let sum = 0;
  let balance = 0;
  do {
    const w = await call("GET", `/wallet?limit=100${cursor ? `&cursor=${cursor}` : ""}`, m.token);
    expect(w.status).toBe(200);
    balance = w.json.balance;
    for (const l of w.json.ledger.items) sum += l.amount;
    cursor = w.json.ledger.nextCursor ?? undefined;
  } while (cursor);
  expect(sum, "wallet balance = sum of its ledger").toBe(balance);
}

/** Runs the deployed waiting-room inlet once for `showtimeId` (the local stack's schedule is off), through
 * LocalStack's Lambda API; the stack's outputs are at TICKETING_OUTPUTS. */
export async function runInlet(showtimeId: string) {
  const file = process.env.TICKETING_OUTPUTS;
  if (!file) throw new Error("TICKETING_OUTPUTS is not set: the waiting-room test needs the stack's outputs");
  const { readFileSync } = await import("node:fs");
  const outputs = JSON.parse(readFileSync(file, "utf8"));
  const name = outputs.functions.WaitingRoomInletFunction;
  const res = await fetch(`${outputs.endpoint}/2015-03-31/functions/${name}/invocations`, {
    method: "POST",
    body: JSON.stringify({ showtimeId }),
  });
  expect(res.status).toBe(200);
  return res.json();
}
