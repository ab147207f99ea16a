// Korean and English. Messages are keyed by their English text (gettext style): English is the key itself,
// Korean comes from `ko` (messages.ts). `{name}` placeholders are filled from `vars`.
import { createContext, useContext } from "react";
import { ko } from "./messages";

export type Lang = "ko" | "en";
const KEY = "ticketing.locale";

export function initialLang(): Lang {
  const saved = localStorage.getItem(KEY);
  if (saved === "ko" || saved === "en") return saved;
  return navigator.language.startsWith("ko") ? "ko" : "en";
}

export function saveLang(lang: Lang) {
  localStorage.setItem(KEY, lang);
  document.documentElement.lang = lang;
}

export function translate(lang: Lang, text: string, vars?: Record<string, string | number>): string {
  let out = lang === "ko" ? (ko[text] ?? text) : text;
  if (vars) for (const [k, v] of Object.entries(vars)) out = out.split(`{${k}}`).join(String(v));
  return out;
}

export interface I18n {
  lang: Lang;
  setLang(lang: Lang): void;
  t(text: string, vars?: Record<string, string | number>): string;
  money(amount: number, currency?: string): string;
  instant(iso: string | null | undefined): string;
  day(iso: string): string;
}

/** The showtimes' zone: instants are shown in it, with the zone named. */
export const SHOW_ZONE = "Asia/Seoul";

export function makeI18n(lang: Lang, setLang: (l: Lang) => void): I18n {
  const tag = lang === "ko" ? "ko-KR" : "en-US";
  const moneyFormats = new Map<string, Intl.NumberFormat>();
  const instantFormat = new Intl.DateTimeFormat(tag, {
    timeZone: SHOW_ZONE,
    year: "numeric",
    month: "short",
    day: "numeric",
    weekday: "short",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  });
  const dayFormat = new Intl.DateTimeFormat(tag, { timeZone: SHOW_ZONE, month: "short", day: "numeric" });
  return {
    lang,
    setLang,
    t: (text, vars) => translate(lang, text, vars),
    money(amount, currency = "KRW") {
      let f = moneyFormats.get(currency);
      if (!f) {
        // Intl knows each currency's minor unit (KRW has none); amounts arrive in minor units.
        f = new Intl.NumberFormat(tag, { style: "currency", currency });
        moneyFormats.set(currency, f);
      }
      const digits = f.resolvedOptions().maximumFractionDigits ?? 0;
      return f.format(amount / 10 ** digits);
    },
    instant(iso) {
      if (!iso) return "";
      const d = new Date(iso);
      return Number.isNaN(d.getTime()) ? iso : `${instantFormat.format(d)} KST`;
    },
    day(iso) {
      const d = new Date(iso);
      return Number.isNaN(d.getTime()) ? iso : dayFormat.format(d);
    },
  };
}

export const I18nContext = createContext<I18n>(makeI18n("en", () => {}));
export const useI18n = () => useContext(I18nContext);

/** `YYYY-MM-DDTHH:mm` as typed in a datetime-local field, read as Korean time (no DST), to UTC RFC 3339. */
export function seoulLocalToUtc(local: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(local);
  if (!m) return local;
  const utc = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4] - 9, +m[5]);
  return new Date(utc).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** The reverse: a UTC instant as the datetime-local value of Korean time. */
export function utcToSeoulLocal(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  return new Date(d.getTime() + 9 * 3600_000).toISOString().slice(0, 16);
}

/** The Korean calendar day `days` days from today, YYYY-MM-DD (settlement statements follow it). */
export function koreanDay(days = 0): string {
  return new Date(Date.now() + 9 * 3600_000 + days * 86400_000).toISOString().slice(0, 10);
}
