import { useI18n } from "../lib/i18n";

/** The test mode provider's card tokens (README): what a card form makes of a card in production. */
export const TEST_CARDS = [
  { token: "tok_visa", label: "Visa •••• 4242" },
  { token: "tok_mastercard", label: "Mastercard •••• 4444" },
  { token: "tok_amex", label: "Amex •••• 8431" },
  { token: "tok_chargeDeclined", label: "Declined card (test)" },
  { token: "tok_chargeDeclinedInsufficientFunds", label: "Insufficient funds (test)" },
];

/** A card, picked among the test tokens. */
export function TestCardSelect(props: { value: string; onChange: (token: string) => void; className?: string }) {
  const { t } = useI18n();
  return (
    <label className={props.className}>
      {t("Test card")}{" "}
      <select value={props.value} onChange={(e) => props.onChange(e.target.value)}>
        {TEST_CARDS.map((c) => (
          <option key={c.token} value={c.token}>
            {t(c.label)}
          </option>
        ))}
      </select>
    </label>
  );
}
