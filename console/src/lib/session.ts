// The signed-in member: the bearer token and who it is for, kept in this tab's localStorage until it expires.
import { useSyncExternalStore } from "react";

export type Role = "USER" | "ORGANIZER" | "ADMIN";
export interface Session {
  accessToken: string;
  memberId: string;
  role: Role;
  email: string;
  expiresAt: number;
}

const KEY = "ticketing.session";
const listeners = new Set<() => void>();
let cached: Session | null = read();
let expiredFlag = false;

function read(): Session | null {
  try {
    const raw = localStorage.getItem(KEY);
    if (!raw) return null;
    const s = JSON.parse(raw) as Session;
    return s.expiresAt > Date.now() ? s : null;
  } catch {
    return null;
  }
}

function emit() {
  for (const l of listeners) l();
}

export const session = {
  current(): Session | null {
    if (cached && cached.expiresAt <= Date.now()) {
      cached = null;
      expiredFlag = true;
      localStorage.removeItem(KEY);
    }
    return cached;
  },
  start(s: Session) {
    cached = s;
    expiredFlag = false;
    localStorage.setItem(KEY, JSON.stringify(s));
    emit();
  },
  end() {
    cached = null;
    localStorage.removeItem(KEY);
    emit();
  },
  /** The API refused the token: back to the login, saying why. */
  expire() {
    if (!cached) return;
    cached = null;
    expiredFlag = true;
    localStorage.removeItem(KEY);
    emit();
  },
  wasExpired(): boolean {
    return expiredFlag;
  },
  subscribe(l: () => void) {
    listeners.add(l);
    return () => listeners.delete(l);
  },
};

export function useSession(): Session | null {
  return useSyncExternalStore(session.subscribe, () => session.current());
}
