// An organizer moves a showtime to another time and hall from its dashboard; buyers see the new time.
import { expect, test } from "@playwright/test";
import { call, member, onSale, uiLogin } from "./helpers";

test("an organizer changes a showtime's time and hall", async ({ page }) => {
  const organizer = await member("ORGANIZER");
  const { performanceId, showtimeId } = await onSale(organizer);
  const before = (await call("GET", `/performances/${performanceId}/showtimes`)).json.items[0];
  await uiLogin(page, organizer);
  await page.goto(`organizer/performances/${performanceId}/showtimes/${showtimeId}`);
  await page.getByRole("button", { name: "Change time or venue" }).click();
  const editor = page.getByRole("region", { name: "Change the showtime" });
  const day = before.startsAt.slice(0, 10);
  await editor.getByLabel("Starts at (Korean time)").fill(`${day}T20:00`);
  await editor.getByLabel("Hall").fill("Small hall");
  await editor.getByRole("button", { name: "Save the showtime" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toContainText("20:00 KST");
  await expect(page.getByText("Small hall").first()).toBeVisible();
  const after = (await call("GET", `/performances/${performanceId}/showtimes`)).json.items[0];
  expect(after.venueName).toBe("Small hall");
  expect(after.startsAt).toBe(`${day}T11:00:00Z`);
  expect(after.seatMap).toEqual(before.seatMap);
});
