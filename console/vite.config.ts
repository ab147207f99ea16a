import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// Served by the gateway at /console/ on the API's own origin (no CORS); `npm run dev` proxies the API to a
// running infra/local/run.sh.
export default defineConfig({
  base: "/console/",
  plugins: [react()],
  build: { target: "es2022", sourcemap: false, chunkSizeWarningLimit: 600 },
  server: {
    host: "127.0.0.1",
    proxy: Object.fromEntries(
      ["/performances", "/reservations", "/login", "/logout", "/signup", "/members", "/me", "/wallet",
        "/notifications", "/admin", "/organizer", "/queue", "/showtimes", "/openapi.json", "/health"]
        .map((p) => [p, "http://127.0.0.1:3000"]),
    ),
  },
});
