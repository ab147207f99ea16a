// The seat map on a canvas: one draw call per visible seat, never a DOM node per seat, so maps of 100,000
// seats stay fast. The canvas covers only the visible window of a scrolled area as large as the whole map;
// it is picked with the mouse or from the keyboard (arrows move, Enter or Space picks), and zoomed.
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import type { SeatMapView } from "../api/client";
import { useI18n } from "../lib/i18n";

export const GRADE_COLOURS = ["#7c3aed", "#0284c7", "#059669", "#d97706", "#db2777", "#4f46e5", "#0d9488", "#b45309"];
const HELD = "#cbd5e1";
const SOLD = "#64748b";
const SELECTED = "#111827";
const CURSOR = "#f43f5e";

export const seatKey = (row: number, col: number) => `${row}:${col}`;

export interface ParsedMap {
  rows: number;
  cols: number;
  /** `A`, `H` or `S` per seat, row-major. */
  status: Uint8Array;
  /** Index into `grades` per row (0-based rows). */
  rowGrade: Uint16Array;
  grades: { grade: string; price: number; colour: string }[];
}

const A = "A".charCodeAt(0);
const H = "H".charCodeAt(0);

export function parseMap(view: SeatMapView): ParsedMap {
  const { rows, cols } = view;
  const status = new Uint8Array(rows * cols);
  const rowGrade = new Uint16Array(rows);
  const index = new Map<string, number>();
  const grades: ParsedMap["grades"] = [];
  for (const g of view.grades) {
    index.set(g.grade, grades.length);
    grades.push({ grade: g.grade, price: g.price, colour: GRADE_COLOURS[grades.length % GRADE_COLOURS.length] });
  }
  for (const r of view.seatRows) {
    const base = (r.row - 1) * cols;
    rowGrade[r.row - 1] = index.get(r.grade) ?? 0;
    for (let c = 0; c < cols && c < r.seats.length; c++) status[base + c] = r.seats.charCodeAt(c);
  }
  return { rows, cols, status, rowGrade, grades };
}

export function seatStatus(map: ParsedMap, row: number, col: number): "A" | "H" | "S" {
  const s = map.status[(row - 1) * map.cols + (col - 1)];
  return s === A ? "A" : s === H ? "H" : "S";
}

interface Props {
  map: ParsedMap;
  selected: ReadonlySet<string>;
  onPick: (row: number, col: number) => void;
  /** Seats another buyer took meanwhile, outlined until the next pick. */
  lost?: ReadonlySet<string>;
  readOnly?: boolean;
  label: string;
}

const GAP = 0.18;

export function SeatCanvas({ map, selected, onPick, lost, readOnly, label }: Props) {
  const { t, money } = useI18n();
  const scroller = useRef<HTMLDivElement>(null);
  const canvas = useRef<HTMLCanvasElement>(null);
  // Seat pitch in CSS pixels: start so the whole width fits, between 3 and 28.
  const [pitch, setPitch] = useState(() => Math.max(3, Math.min(28, Math.floor(880 / Math.max(1, map.cols)))));
  const [cursor, setCursor] = useState<{ row: number; col: number }>({ row: 1, col: 1 });
  const [view, setView] = useState({ x: 0, y: 0, w: 880, h: 480 });
  const frame = useRef(0);

  const width = map.cols * pitch;
  const height = map.rows * pitch;

  const draw = useCallback(() => {
    const c = canvas.current;
    if (!c) return;
    const dpr = window.devicePixelRatio || 1;
    const w = view.w;
    const h = view.h;
    if (c.width !== Math.round(w * dpr) || c.height !== Math.round(h * dpr)) {
      c.width = Math.round(w * dpr);
      c.height = Math.round(h * dpr);
      c.style.width = `${w}px`;
      c.style.height = `${h}px`;
    }
    const g = c.getContext("2d");
    if (!g) return;
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, w, h);
    const firstCol = Math.max(1, Math.floor(view.x / pitch) + 1);
    const lastCol = Math.min(map.cols, Math.ceil((view.x + w) / pitch));
    const firstRow = Math.max(1, Math.floor(view.y / pitch) + 1);
    const lastRow = Math.min(map.rows, Math.ceil((view.y + h) / pitch));
    const size = pitch * (1 - GAP);
    const round = pitch >= 10;
    for (let r = firstRow; r <= lastRow; r++) {
      const colour = map.grades[map.rowGrade[r - 1]]?.colour ?? GRADE_COLOURS[0];
      const y = (r - 1) * pitch - view.y;
      const base = (r - 1) * map.cols;
      for (let col = firstCol; col <= lastCol; col++) {
        const s = map.status[base + col - 1];
        const key = selected.size ? seatKey(r, col) : "";
        g.fillStyle = selected.size && selected.has(key) ? SELECTED : s === A ? colour : s === H ? HELD : SOLD;
        const x = (col - 1) * pitch - view.x;
        if (round) {
          g.beginPath();
          g.roundRect(x, y, size, size, size * 0.25);
          g.fill();
        } else {
          g.fillRect(x, y, size, size);
        }
      }
    }
    if (lost?.size) {
      g.strokeStyle = CURSOR;
      g.lineWidth = 2;
      for (const k of lost) {
        const [r, col] = k.split(":").map(Number);
        g.strokeRect((col - 1) * pitch - view.x - 1, (r - 1) * pitch - view.y - 1, size + 2, size + 2);
      }
    }
    if (document.activeElement === scroller.current) {
      g.strokeStyle = CURSOR;
      g.lineWidth = 2;
      g.strokeRect((cursor.col - 1) * pitch - view.x - 1.5, (cursor.row - 1) * pitch - view.y - 1.5, size + 3, size + 3);
    }
  }, [map, pitch, view, selected, lost, cursor]);

  useEffect(() => {
    cancelAnimationFrame(frame.current);
    frame.current = requestAnimationFrame(draw);
    return () => cancelAnimationFrame(frame.current);
  }, [draw]);

  // The visible window follows the scroll position and the container's size.
  useEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const update = () => setView({ x: el.scrollLeft, y: el.scrollTop, w: el.clientWidth, h: el.clientHeight });
    update();
    el.addEventListener("scroll", update, { passive: true });
    const ro = new ResizeObserver(update);
    ro.observe(el);
    return () => {
      el.removeEventListener("scroll", update);
      ro.disconnect();
    };
  }, [pitch]);

  const zoom = (factor: number) => setPitch((p) => Math.max(3, Math.min(48, Math.round(p * factor))));

  const seatAt = (clientX: number, clientY: number) => {
    const el = scroller.current;
    if (!el) return null;
    const rect = el.getBoundingClientRect();
    const col = Math.floor((clientX - rect.left + el.scrollLeft) / pitch) + 1;
    const row = Math.floor((clientY - rect.top + el.scrollTop) / pitch) + 1;
    if (row < 1 || col < 1 || row > map.rows || col > map.cols) return null;
    return { row, col };
  };

  const reveal = (row: number, col: number) => {
    const el = scroller.current;
    if (!el) return;
    const x = (col - 1) * pitch;
    const y = (row - 1) * pitch;
    if (x < el.scrollLeft) el.scrollLeft = x;
    else if (x + pitch > el.scrollLeft + el.clientWidth) el.scrollLeft = x + pitch - el.clientWidth;
    if (y < el.scrollTop) el.scrollTop = y;
    else if (y + pitch > el.scrollTop + el.clientHeight) el.scrollTop = y + pitch - el.clientHeight;
  };

  const onKey = (e: React.KeyboardEvent) => {
    const moves: Record<string, [number, number]> = {
      ArrowUp: [-1, 0],
      ArrowDown: [1, 0],
      ArrowLeft: [0, -1],
      ArrowRight: [0, 1],
    };
    if (e.key in moves) {
      e.preventDefault();
      const [dr, dc] = moves[e.key];
      const row = Math.min(map.rows, Math.max(1, cursor.row + dr));
      const col = Math.min(map.cols, Math.max(1, cursor.col + dc));
      setCursor({ row, col });
      reveal(row, col);
    } else if ((e.key === "Enter" || e.key === " ") && !readOnly) {
      e.preventDefault();
      onPick(cursor.row, cursor.col);
    } else if (e.key === "+" || e.key === "=") {
      zoom(1.25);
    } else if (e.key === "-") {
      zoom(0.8);
    }
  };

  const grade = map.grades[map.rowGrade[cursor.row - 1]];
  const status = seatStatus(map, cursor.row, cursor.col);
  const statusText = selected.has(seatKey(cursor.row, cursor.col))
    ? t("selected")
    : status === "A"
      ? t("available")
      : status === "H"
        ? t("held")
        : t("sold");

  return (
    <div className="seat-canvas">
      <div className="toolbar" role="toolbar" aria-label={t("Zoom")}>
        <button type="button" onClick={() => zoom(0.8)} aria-label={t("Zoom out")}>
          −
        </button>
        <button type="button" onClick={() => zoom(1.25)} aria-label={t("Zoom in")}>
          +
        </button>
        <span className="muted">
          {t("{rows} rows × {cols} seats", { rows: map.rows, cols: map.cols })} · {t("Stage is at the top")}
        </span>
      </div>
      <div className="stage" aria-hidden="true">
        {t("STAGE")}
      </div>
      <div
        ref={scroller}
        className="seat-scroller"
        tabIndex={0}
        role="application"
        aria-label={label}
        aria-describedby="seat-help"
        data-pitch={pitch}
        style={{ height: Math.min(560, Math.max(120, height + 4)) }}
        onKeyDown={onKey}
        onFocus={draw}
        onBlur={draw}
        onClick={(e) => {
          if (readOnly) return;
          const seat = seatAt(e.clientX, e.clientY);
          if (seat) {
            setCursor(seat);
            onPick(seat.row, seat.col);
          }
        }}
        onWheel={(e) => {
          if (e.ctrlKey) {
            e.preventDefault();
            zoom(e.deltaY < 0 ? 1.1 : 0.9);
          }
        }}
      >
        <div style={{ width, height, position: "relative" }}>
          <canvas ref={canvas} style={{ position: "sticky", left: 0, top: 0, display: "block" }} />
        </div>
      </div>
      <p id="seat-help" className="sr-only">
        {t("Arrow keys move between seats, Enter or Space picks a seat, + and − zoom.")}
      </p>
      <p className="seat-cursor" aria-live="polite" data-testid="seat-cursor">
        {t("Row {row}, seat {col}", { row: cursor.row, col: cursor.col })} · {grade?.grade}{" "}
        {grade ? money(grade.price) : ""} · {statusText}
      </p>
    </div>
  );
}

export function Legend({ map, currency }: { map: ParsedMap; currency: string }) {
  const { t, money } = useI18n();
  const counts = useMemo(() => {
    const free = new Array(map.grades.length).fill(0);
    for (let r = 0; r < map.rows; r++) {
      const base = r * map.cols;
      let n = 0;
      for (let c = 0; c < map.cols; c++) if (map.status[base + c] === A) n++;
      free[map.rowGrade[r]] += n;
    }
    return free;
  }, [map]);
  return (
    <ul className="legend" aria-label={t("Price legend")}>
      {map.grades.map((g, i) => (
        <li key={g.grade}>
          <span className="swatch" style={{ background: g.colour }} aria-hidden="true" />
          <strong>{g.grade}</strong> {money(g.price, currency)}{" "}
          <span className="muted">{t("{n} left", { n: counts[i] })}</span>
        </li>
      ))}
      <li>
        <span className="swatch" style={{ background: HELD }} aria-hidden="true" />
        {t("held")}
      </li>
      <li>
        <span className="swatch" style={{ background: SOLD }} aria-hidden="true" />
        {t("sold")}
      </li>
      <li>
        <span className="swatch" style={{ background: SELECTED }} aria-hidden="true" />
        {t("selected")}
      </li>
    </ul>
  );
}
