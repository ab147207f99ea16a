// The wallet: the balance, a top-up by card token, and the ledger.
import { useState } from "react";
import { api, asProblem, newKey, type Problem } from "../../api/client";
import { fieldError, Loading, ProblemBanner, TextField } from "../../components/ui";
import { useI18n } from "../../lib/i18n";
import { useApi } from "../../lib/useApi";
import { TEST_CARDS, TestCardSelect } from "../../components/TestCard";

export default function Wallet() {
  const { t, money, instant } = useI18n();
  const wallet = useApi(() => api.GET("/wallet", { params: { query: { limit: 50 } } }), []);
  const [amount, setAmount] = useState("100000");
  const [card, setCard] = useState(TEST_CARDS[0].token);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [busy, setBusy] = useState(false);
  const topUp = async () => {
    setBusy(true);
    const n = Number(amount);
    const { data, error, response } = await api.POST("/wallet/charge", {
      params: { header: { "Idempotency-Key": newKey() } },
      body: { amount: Number.isInteger(n) ? n : (amount as unknown as number), payment: { token: card } },
    });
    setBusy(false);
    if (!data) return setProblem(asProblem(error, response.status));
    setProblem(null);
    void wallet.reload();
  };
  const w = wallet.data;
  return (
    <section>
      <h1>{t("Wallet")}</h1>
      <ProblemBanner problem={wallet.problem} />
      {!w ? (
        <Loading />
      ) : (
        <>
          <p className="balance">
            {t("Balance")}: <strong data-testid="balance">{money(w.balance, w.currency)}</strong>
          </p>
          <div className="panel" role="region" aria-label={t("Top up")}>
            <h2>{t("Top up")}</h2>
            <ProblemBanner problem={problem} />
            <TextField label={t("Points")} type="number" value={amount} onChange={setAmount} error={fieldError(problem, "amount")} />
            <TestCardSelect value={card} onChange={setCard} />{" "}
            <button type="button" className="primary" onClick={topUp} disabled={busy}>
              {t("Top up")}
            </button>
          </div>
          <h2>{t("Ledger")}</h2>
          <table data-testid="ledger">
            <thead>
              <tr>
                <th scope="col">{t("When")}</th>
                <th scope="col">{t("What")}</th>
                <th scope="col">{t("Amount")}</th>
                <th scope="col">{t("Balance after")}</th>
              </tr>
            </thead>
            <tbody>
              {w.ledger.items.map((l) => (
                <tr key={l.id}>
                  <td>{instant(l.at)}</td>
                  <td>{t(l.kind)}</td>
                  <td>{money(l.amount, w.currency)}</td>
                  <td>{money(l.balanceAfter, w.currency)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}
