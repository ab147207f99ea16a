// Log in and sign up. A session the API refused (expired, revoked) lands here with a note saying so.
import { useState, type FormEvent } from "react";
import { Link, useLocation, useSearch } from "wouter";
import { api, asProblem, type Problem } from "../api/client";
import { fieldError, ProblemBanner, TextField } from "../components/ui";
import { useI18n, type Lang } from "../lib/i18n";
import { session, type Role } from "../lib/session";

function home(role: Role) {
  return role === "ADMIN" ? "/admin" : role === "ORGANIZER" ? "/organizer" : "/";
}

async function signIn(email: string, password: string, setLang: (l: Lang) => void): Promise<Problem | Role> {
  const { data, error, response } = await api.POST("/login", { body: { email, password } });
  if (!data) return asProblem(error, response.status);
  // The console speaks the member's language: read before the session starts, so the page appears in it
  // and never switches under the person's hands.
  const member = await api.GET("/members/{memberId}", {
    params: { path: { memberId: data.memberId } },
    headers: { authorization: `Bearer ${data.accessToken}` },
  });
  if (member.data?.locale) setLang(member.data.locale);
  session.start({
    accessToken: data.accessToken,
    memberId: data.memberId,
    role: data.role,
    email,
    expiresAt: Date.now() + data.expiresIn * 1000,
  });
  return data.role;
}

export function Login() {
  const { t, setLang } = useI18n();
  const [, navigate] = useLocation();
  const next = new URLSearchParams(useSearch()).get("next");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [problem, setProblem] = useState<Problem | null>(null);
  const [busy, setBusy] = useState(false);
  const expired = session.wasExpired();

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    const out = await signIn(email, password, setLang);
    setBusy(false);
    if (typeof out === "string") navigate(next && next.startsWith("/") ? next : home(out));
    else setProblem(out);
  };

  return (
    <section className="narrow">
      <h1>{t("Log in")}</h1>
      {expired ? (
        <p className="notice" role="status">
          {t("Your session has ended. Log in again to go on.")}
        </p>
      ) : null}
      <ProblemBanner problem={problem} />
      <form onSubmit={submit}>
        <TextField label={t("Email")} type="email" value={email} onChange={setEmail} required autoComplete="username" />
        <TextField
          label={t("Password")}
          type="password"
          value={password}
          onChange={setPassword}
          required
          autoComplete="current-password"
        />
        <button type="submit" className="primary" disabled={busy}>
          {t("Log in")}
        </button>
      </form>
      <p>
        {t("New here?")} <Link href="/signup">{t("Sign up")}</Link>
      </p>
    </section>
  );
}

export function Signup() {
  const { t, lang, setLang } = useI18n();
  const [, navigate] = useLocation();
  const [form, setForm] = useState({ name: "", email: "", password: "", role: "USER" as "USER" | "ORGANIZER" });
  const [problem, setProblem] = useState<Problem | null>(null);
  const [busy, setBusy] = useState(false);
  const set = (k: keyof typeof form) => (v: string) => setForm({ ...form, [k]: v });

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    const { error, response } = await api.POST("/signup", { body: { ...form, locale: lang } });
    if (error) {
      setBusy(false);
      setProblem(asProblem(error, response.status));
      return;
    }
    const out = await signIn(form.email, form.password, setLang);
    setBusy(false);
    if (typeof out === "string") navigate(home(out));
    else setProblem(out);
  };

  return (
    <section className="narrow">
      <h1>{t("Sign up")}</h1>
      <ProblemBanner problem={problem} />
      <form onSubmit={submit} noValidate>
        <TextField label={t("Name")} value={form.name} onChange={set("name")} error={fieldError(problem, "name")} />
        <TextField
          label={t("Email")}
          type="email"
          value={form.email}
          onChange={set("email")}
          error={fieldError(problem, "email")}
          autoComplete="username"
        />
        <TextField
          label={t("Password")}
          type="password"
          value={form.password}
          onChange={set("password")}
          error={fieldError(problem, "password")}
          hint={t("At least 10 characters.")}
          autoComplete="new-password"
        />
        <fieldset>
          <legend>{t("I want to")}</legend>
          <label>
            <input type="radio" name="role" checked={form.role === "USER"} onChange={() => set("role")("USER")} />{" "}
            {t("buy tickets")}
          </label>
          <label>
            <input
              type="radio"
              name="role"
              checked={form.role === "ORGANIZER"}
              onChange={() => set("role")("ORGANIZER")}
            />{" "}
            {t("sell tickets for my shows (organizer)")}
          </label>
        </fieldset>
        <button type="submit" className="primary" disabled={busy}>
          {t("Create my account")}
        </button>
      </form>
    </section>
  );
}
