// The catalog: approved performances, newest first, filtered by category, a page at a time.
import { useEffect, useState } from "react";
import { Link } from "wouter";
import { api, asProblem, type Category, type Performance, type Problem } from "../../api/client";
import { Loading, ProblemBanner } from "../../components/ui";
import { useI18n } from "../../lib/i18n";

export const CATEGORIES: Category[] = [
  "CONCERT",
  "MUSICAL",
  "THEATER",
  "CLASSICAL",
  "OPERA",
  "DANCE",
  "COMEDY",
  "FAMILY",
  "EXHIBITION",
  "OTHER",
];

export function Catalog() {
  const { t, instant } = useI18n();
  const [category, setCategory] = useState<Category | "">("");
  const [items, setItems] = useState<Performance[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [problem, setProblem] = useState<Problem | null>(null);

  const load = async (more?: string) => {
    const { data, error, response } = await api.GET("/performances", {
      params: { query: { category: category || undefined, limit: 24, cursor: more } },
    });
    if (!data) return setProblem(asProblem(error, response.status));
    setItems((prev) => (more && prev ? [...prev, ...data.items] : data.items));
    setCursor(data.nextCursor ?? null);
  };
  useEffect(() => {
    setItems(null);
    void load();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [category]);

  return (
    <section>
      <h1>{t("Shows on sale")}</h1>
      <div className="filters" role="group" aria-label={t("Category")}>
        <button type="button" aria-pressed={category === ""} onClick={() => setCategory("")}>
          {t("All")}
        </button>
        {CATEGORIES.map((c) => (
          <button type="button" key={c} aria-pressed={category === c} onClick={() => setCategory(c)}>
            {t(c)}
          </button>
        ))}
      </div>
      <ProblemBanner problem={problem} />
      {items === null ? (
        <Loading />
      ) : items.length === 0 ? (
        <p className="muted">{t("Nothing on sale in this category yet.")}</p>
      ) : (
        <ul className="cards">
          {items.map((p) => (
            <li key={p.id} className="card">
              <Link href={`/performances/${p.id}`}>
                <h2>{p.title}</h2>
              </Link>
              <p className="muted">
                {t(p.category)} · {p.venue.name}, {p.venue.city} · {p.ageRating}
              </p>
              <p>
                {p.runStartDate} – {p.runEndDate}
              </p>
              <p className="muted">
                {t("On sale until {when}", { when: instant(p.saleClosesAt) })}
              </p>
            </li>
          ))}
        </ul>
      )}
      {cursor ? (
        <button type="button" onClick={() => load(cursor)}>
          {t("More")}
        </button>
      ) : null}
    </section>
  );
}
