// The console's shell: the language, the signed-in member, the navigation for their role, and the routes.
// Every page lives in pages/<who>/; the API client is api/client.ts.
import { lazy, Suspense, useEffect, useMemo, useState, type ReactNode } from "react";
import { Link, Redirect, Route, Router, Switch, useLocation } from "wouter";
import { api } from "./api/client";
import { I18nContext, initialLang, makeI18n, saveLang, useI18n, type Lang } from "./lib/i18n";
import { session, useSession, type Role } from "./lib/session";
import { Loading } from "./components/ui";
import { Login, Signup } from "./pages/Login";
import { Catalog } from "./pages/buyer/Catalog";
import { PerformancePage } from "./pages/buyer/PerformancePage";
import { SeatPicker } from "./pages/buyer/SeatPicker";

// Organizer, admin and account pages load on first use: the first page stays small.
const MyPage = lazy(() => import("./pages/buyer/MyPage"));
const ReservationPage = lazy(() => import("./pages/buyer/ReservationPage"));
const Wallet = lazy(() => import("./pages/buyer/Wallet"));
const Notifications = lazy(() => import("./pages/buyer/Notifications"));
const OrganizerHome = lazy(() => import("./pages/organizer/OrganizerHome"));
const PerformanceEditor = lazy(() => import("./pages/organizer/PerformanceEditor"));
const ShowtimeDashboard = lazy(() => import("./pages/organizer/ShowtimeDashboard"));
const ReviewQueue = lazy(() => import("./pages/admin/ReviewQueue"));
const AdminReservations = lazy(() => import("./pages/admin/AdminReservations"));
const AdminPayments = lazy(() => import("./pages/admin/AdminPayments"));
const PaymentProvider = lazy(() => import("./pages/admin/PaymentProvider"));
const AdminMembers = lazy(() => import("./pages/admin/AdminMembers"));
const AdminSettlements = lazy(() => import("./pages/admin/AdminSettlements"));
const Settlements = lazy(() => import("./pages/organizer/Settlements"));
const SettlementPage = lazy(() => import("./pages/organizer/Settlements").then((m) => ({ default: m.SettlementPage })));

export function App() {
  const [lang, setLangState] = useState<Lang>(initialLang);
  const i18n = useMemo(
    () =>
      makeI18n(lang, (l) => {
        saveLang(l);
        setLangState(l);
      }),
    [lang],
  );
  useEffect(() => {
    document.documentElement.lang = lang;
  }, [lang]);
  return (
    <I18nContext.Provider value={i18n}>
      <Router base="/console">
        <Shell />
      </Router>
    </I18nContext.Provider>
  );
}

function Shell() {
  const { t } = useI18n();
  return (
    <>
      <a className="skip" href="#main">
        {t("Skip to content")}
      </a>
      <Header />
      <main id="main">
        <Suspense fallback={<Loading />}>
          <Switch>
            <Route path="/" component={Catalog} />
            <Route path="/login" component={Login} />
            <Route path="/signup" component={Signup} />
            <Route path="/performances/:performanceId">{(p) => <PerformancePage performanceId={p.performanceId} />}</Route>
            <Route path="/performances/:performanceId/showtimes/:showtimeId">
              {(p) => (
                <Need roles={["USER", "ORGANIZER", "ADMIN"]}>
                  <SeatPicker performanceId={p.performanceId} showtimeId={p.showtimeId} />
                </Need>
              )}
            </Route>
            <Route path="/me">
              <Need roles={["USER", "ORGANIZER", "ADMIN"]}>
                <MyPage />
              </Need>
            </Route>
            <Route path="/me/reservations/:reservationId">
              {(p) => (
                <Need roles={["USER", "ORGANIZER", "ADMIN"]}>
                  <ReservationPage reservationId={p.reservationId} />
                </Need>
              )}
            </Route>
            <Route path="/wallet">
              <Need roles={["USER", "ORGANIZER", "ADMIN"]}>
                <Wallet />
              </Need>
            </Route>
            <Route path="/notifications">
              <Need roles={["USER", "ORGANIZER", "ADMIN"]}>
                <Notifications />
              </Need>
            </Route>
            <Route path="/organizer">
              <Need roles={["ORGANIZER", "ADMIN"]}>
                <OrganizerHome />
              </Need>
            </Route>
            <Route path="/organizer/settlements">
              <Need roles={["ORGANIZER", "ADMIN"]}>
                <Settlements />
              </Need>
            </Route>
            <Route path="/organizer/settlements/:settlementId">
              {(p) => (
                <Need roles={["ORGANIZER", "ADMIN"]}>
                  <SettlementPage settlementId={p.settlementId} />
                </Need>
              )}
            </Route>
            <Route path="/organizer/new">
              <Need roles={["ORGANIZER", "ADMIN"]}>
                <PerformanceEditor />
              </Need>
            </Route>
            <Route path="/organizer/performances/:performanceId">
              {(p) => (
                <Need roles={["ORGANIZER", "ADMIN"]}>
                  <PerformanceEditor performanceId={p.performanceId} />
                </Need>
              )}
            </Route>
            <Route path="/organizer/performances/:performanceId/showtimes/:showtimeId">
              {(p) => (
                <Need roles={["ORGANIZER", "ADMIN"]}>
                  <ShowtimeDashboard performanceId={p.performanceId} showtimeId={p.showtimeId} />
                </Need>
              )}
            </Route>
            <Route path="/admin">
              <Need roles={["ADMIN"]}>
                <ReviewQueue />
              </Need>
            </Route>
            <Route path="/admin/reservations">
              <Need roles={["ADMIN"]}>
                <AdminReservations />
              </Need>
            </Route>
            <Route path="/admin/payments">
              <Need roles={["ADMIN"]}>
                <AdminPayments />
              </Need>
            </Route>
            <Route path="/admin/payment-provider">
              <Need roles={["ADMIN"]}>
                <PaymentProvider />
              </Need>
            </Route>
            <Route path="/admin/settlements">
              <Need roles={["ADMIN"]}>
                <AdminSettlements />
              </Need>
            </Route>
            <Route path="/admin/members">
              <Need roles={["ADMIN"]}>
                <AdminMembers />
              </Need>
            </Route>
            <Route>
              <h1>{t("Page not found")}</h1>
            </Route>
          </Switch>
        </Suspense>
      </main>
    </>
  );
}

/** Only for these roles: no session sends the person to the login (and back here after it). */
function Need({ roles, children }: { roles: Role[]; children: ReactNode }) {
  const s = useSession();
  const [location] = useLocation();
  const { t } = useI18n();
  if (!s) return <Redirect to={`/login?next=${encodeURIComponent(location)}`} />;
  if (!roles.includes(s.role)) return <p role="alert">{t("This page is for {roles}.", { roles: roles.join(", ") })}</p>;
  return <>{children}</>;
}

function Header() {
  const s = useSession();
  const { t, lang, setLang } = useI18n();
  const [, navigate] = useLocation();
  const [unread, setUnread] = useState<number | null>(null);
  useEffect(() => {
    if (!s) return;
    let live = true;
    const load = async () => {
      const { data } = await api.GET("/notifications", { params: { query: { limit: 1 } } });
      if (live && data) setUnread(data.unread);
    };
    void load();
    const timer = setInterval(load, 15000);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [s]);
  // The member's language is theirs everywhere: notifications and mail follow it too.
  const switchLang = (l: Lang) => {
    setLang(l);
    if (s) void api.PUT("/members/{memberId}", { params: { path: { memberId: s.memberId } }, body: { locale: l } });
  };
  const logout = async () => {
    await api.POST("/logout");
    session.end();
    navigate("/login");
  };
  return (
    <header className="top">
      <Link href="/" className="brand">
        {t("Ticketing")}
      </Link>
      <nav aria-label={t("Main")}>
        <Link href="/">{t("Shows")}</Link>
        {s ? (
          <>
            <Link href="/me">{t("My page")}</Link>
            <Link href="/wallet">{t("Wallet")}</Link>
            <Link href="/notifications">
              {t("Notifications")}
              {unread ? (
                <span className="count" aria-label={t("{n} unread", { n: unread })}>
                  {unread}
                </span>
              ) : null}
            </Link>
          </>
        ) : null}
        {s && (s.role === "ORGANIZER" || s.role === "ADMIN") ? (
          <>
            <Link href="/organizer">{t("Organizer")}</Link>
            <Link href="/organizer/settlements">{t("Settlements")}</Link>
          </>
        ) : null}
        {s?.role === "ADMIN" ? (
          <>
            <Link href="/admin">{t("Review")}</Link>
            <Link href="/admin/reservations">{t("Reservations")}</Link>
            <Link href="/admin/payments">{t("Payments")}</Link>
            <Link href="/admin/payment-provider">{t("Payment provider")}</Link>
            <Link href="/admin/settlements">{t("Payouts")}</Link>
            <Link href="/admin/members">{t("Members")}</Link>
          </>
        ) : null}
      </nav>
      <div className="account">
        <label className="lang">
          <span className="sr-only">{t("Language")}</span>
          <select value={lang} onChange={(e) => switchLang(e.target.value as Lang)} aria-label={t("Language")}>
            <option value="ko">한국어</option>
            <option value="en">English</option>
          </select>
        </label>
        {s ? (
          <>
            <span className="muted" data-testid="who">
              {s.email} · {t(s.role)}
            </span>
            <button type="button" onClick={logout}>
              {t("Log out")}
            </button>
          </>
        ) : (
          <>
            <Link href="/login">{t("Log in")}</Link>
            <Link href="/signup">{t("Sign up")}</Link>
          </>
        )}
      </div>
    </header>
  );
}
