// Review and roles through the console: an admin rejects a performance with a reason, the organizer reads it,
// edits and resubmits; an admin makes a buyer an organizer.
import { expect, test } from "@playwright/test";
import { accessible, admin, call, member, uiLogin, unique, ADMIN } from "./helpers";

test("a rejected performance shows its reason; the organizer edits it and it is back in review", async ({ page }) => {
  const organizer = await member("ORGANIZER");
  const title = `Review ${unique()}`;
  const created = await call("POST", "/performances", organizer.token, {
    title,
    category: "MUSICAL",
    venue: { name: "Blue Square", city: "Seoul" },
    runningTimeMinutes: 150,
    ageRating: "12+",
    runStartDate: "2027-05-01",
    runEndDate: "2027-05-31",
    saleOpensAt: "2027-03-01T01:00:00Z",
    saleClosesAt: "2027-05-30T01:00:00Z",
  });
  expect(created.status).toBe(201);
  const id = created.json.id;

  await uiLogin(page, ADMIN);
  await page.goto("admin");
  const card = page.getByRole("listitem", { name: title });
  await card.getByRole("button", { name: "Reject…" }).click();
  await card.getByLabel("Why it is rejected").fill("The poster is missing");
  await card.getByRole("button", { name: "Reject", exact: true }).click();
  await expect(card).toBeHidden();
  expect((await call("GET", `/performances/${id}`, organizer.token)).json).toMatchObject({
    status: "REJECTED",
    rejectionReason: "The poster is missing",
  });

  await page.getByRole("button", { name: "Log out" }).click();
  await uiLogin(page, organizer);
  await page.goto("organizer");
  const row = page.locator(`tr[data-performance-id="${id}"]`);
  await expect(row).toContainText("The poster is missing");
  await accessible(page);
  await row.getByRole("link", { name: title }).click();
  await expect(page.getByTestId("rejection-reason")).toContainText("The poster is missing");
  await page.getByLabel("Poster URL (https)").fill("https://example.com/poster.jpg");
  await page.getByRole("button", { name: "Save changes" }).click();
  await expect(page.getByTestId("review-state")).toContainText("PENDING_APPROVAL");
  await expect(page.getByTestId("rejection-reason")).toHaveCount(0);
  expect((await call("GET", `/performances/${id}`, organizer.token)).json).toMatchObject({
    status: "PENDING_APPROVAL",
    posterUrl: "https://example.com/poster.jpg",
  });
});

test("an admin makes a buyer an organizer", async ({ page }) => {
  const buyer = await member("USER");
  await uiLogin(page, ADMIN);
  await page.getByRole("link", { name: "Members" }).click();
  await page.getByLabel("Member id").fill(buyer.id);
  await page.getByRole("button", { name: "Find" }).click();
  await expect(page.getByText(buyer.email)).toBeVisible();
  await page.getByLabel("Role").selectOption("ORGANIZER");
  await page.getByRole("button", { name: "Save the role" }).click();
  await expect(page.getByRole("status")).toContainText("Saved.");
  await accessible(page);
  const a = await admin();
  expect((await call("GET", `/members/${buyer.id}`, a.token)).json.role).toBe("ORGANIZER");
});
