// Admins: look a member up by id and change their role.
import { useState } from "react";
import { api, asProblem, type Problem, type Schemas } from "../../api/client";
import { fieldError, ProblemBanner, TextField } from "../../components/ui";
import { useI18n } from "../../lib/i18n";

type Role = Schemas["Role"];

export default function AdminMembers() {
  const { t, instant } = useI18n();
  const [memberId, setMemberId] = useState("");
  const [member, setMember] = useState<Schemas["Member"] | null>(null);
  const [role, setRole] = useState<Role>("USER");
  const [problem, setProblem] = useState<Problem | null>(null);
  const [saved, setSaved] = useState(false);
  const find = async () => {
    setSaved(false);
    const { data, error, response } = await api.GET("/members/{memberId}", { params: { path: { memberId: memberId.trim() } } });
    if (!data) {
      setMember(null);
      return setProblem(asProblem(error, response.status));
    }
    setProblem(null);
    setMember(data);
    setRole(data.role);
  };
  const save = async () => {
    if (!member) return;
    const { data, error, response } = await api.PUT("/members/{memberId}", {
      params: { path: { memberId: member.id } },
      body: { role },
    });
    if (!data) return setProblem(asProblem(error, response.status));
    setMember(data);
    setSaved(true);
  };
  return (
    <section>
      <h1>{t("Members")}</h1>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void find();
        }}
      >
        <TextField label={t("Member id")} value={memberId} onChange={setMemberId} error={fieldError(problem, "memberId")} />
        <button type="submit" className="primary">
          {t("Find")}
        </button>
      </form>
      <ProblemBanner problem={problem} />
      {member ? (
        <div className="panel">
          <h2>{member.name}</h2>
          <p>
            {member.email} · {t("since {when}", { when: instant(member.createdAt) })}
          </p>
          <label>
            {t("Role")}{" "}
            <select value={role} onChange={(e) => setRole(e.target.value as Role)}>
              {(["USER", "ORGANIZER", "ADMIN"] as Role[]).map((r) => (
                <option key={r} value={r}>
                  {t(r)}
                </option>
              ))}
            </select>
          </label>{" "}
          <button type="button" onClick={save}>
            {t("Save the role")}
          </button>
          {saved ? <p role="status">{t("Saved.")}</p> : null}
        </div>
      ) : null}
    </section>
  );
}
