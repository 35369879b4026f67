import { useEffect, useState } from 'preact/hooks';
import { ApiError, authHeaders, savedToken } from './api';
import { currentLang } from './i18n';

/** A definition's rule for one event's evidence, and the reference an event carries for each file. */
export interface EvidenceRule {
  required?: boolean;
  max?: number;
}
export interface EvidenceRef {
  sha256: string;
  name: string;
  type: string;
  size: number;
}

export const EVIDENCE_ACCEPT = 'image/jpeg,image/png,image/webp,application/pdf';

const TEXT = {
  zh: { files: '照片或文件', required: '必填', atMost: '最多 {n} 个', tooMany: '最多只能选择 {n} 个文件', open: '打开', evidence: '佐证材料' },
  en: { files: 'Photos or files', required: 'required', atMost: 'at most {n}', tooMany: 'choose at most {n} files', open: 'Open', evidence: 'Evidence' },
};
const tr = (key: keyof (typeof TEXT)['zh'], n?: number) => TEXT[currentLang()][key].replace('{n}', String(n ?? ''));

const evidencePath = (workflowId: string) => `/api/processes/${encodeURIComponent(workflowId)}/evidence`;

/** Uploads one file for a process and answers its reference (the API checks its type and size). */
export async function uploadEvidence(workflowId: string, file: File): Promise<EvidenceRef> {
  // With a console session the upload carries its CSRF token, as every request that changes something.
  const res = await fetch(`${evidencePath(workflowId)}?name=${encodeURIComponent(file.name)}`, {
    method: 'POST',
    headers: { accept: 'application/json', ...authHeaders('POST'), 'content-type': file.type || 'application/octet-stream' },
    body: file,
  });
  const body = (await res.json().catch(() => ({}))) as { title?: string; detail?: string };
  if (!res.ok) throw new ApiError(res.status, body.title ?? res.statusText, `${file.name}: ${body.detail ?? ''}`, [{ path: 'data.evidence', message: `${file.name}: ${body.detail ?? res.statusText}` }]);
  return body as EvidenceRef;
}

/** A file input for an event that takes evidence, labelled with whether it is required and how many it takes. */
export function EvidenceField({ id, rule, files, onChange, error, accept = EVIDENCE_ACCEPT, help }: { id: string; rule: EvidenceRule; files: File[]; onChange: (files: File[]) => void; error?: string; accept?: string; help?: string }) {
  const max = rule.max ?? 5;
  const tooMany = files.length > max;
  return (
    <div class="field">
      <label for={id}>
        {tr('files')}
        <span class="req"> （{[rule.required ? tr('required') : '', tr('atMost', max)].filter(Boolean).join('，')}）</span>
      </label>
      <input
        id={id}
        type="file"
        accept={accept}
        capture="environment"
        multiple={max > 1}
        required={rule.required}
        aria-describedby={[help ? `${id}-help` : '', tooMany || error ? `${id}-err` : ''].filter(Boolean).join(' ') || undefined}
        onChange={(e) => onChange([...((e.currentTarget as HTMLInputElement).files ?? [])])}
      />
      {help && (
        <p id={`${id}-help`} class="muted small">
          {help}
        </p>
      )}
      {(tooMany || error) && (
        <p id={`${id}-err`} class="field-error">
          {tooMany ? tr('tooMany', max) : error}
        </p>
      )}
    </div>
  );
}

/** One evidence file of a process: a thumbnail for a photo, and a button that opens the file. */
function EvidenceItem({ workflowId, file }: { workflowId: string; file: EvidenceRef }) {
  const [thumb, setThumb] = useState<string>();
  const fetchBlob = async () => {
    const token = savedToken();
    const res = await fetch(`${evidencePath(workflowId)}/${file.sha256}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    return res.blob();
  };
  useEffect(() => {
    if (!file.type.startsWith('image/')) return;
    let live = true;
    // A data: URL, which the console's Content Security Policy allows for images (blob: it does not).
    fetchBlob()
      .then((blob) => new Promise<string>((resolve) => {
        const reader = new FileReader();
        reader.onload = () => resolve(String(reader.result));
        reader.readAsDataURL(blob);
      }))
      .then((url) => live && setThumb(url))
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, [workflowId, file.sha256]);
  const [failed, setFailed] = useState<string>();
  const open = async () => {
    setFailed(undefined);
    try {
      const url = URL.createObjectURL(await fetchBlob());
      const a = document.createElement('a');
      a.href = url;
      a.download = file.name;
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
    } catch (e) {
      setFailed((e as Error).message);
    }
  };
  return (
    <li class="evidence-item">
      {thumb && <img src={thumb} alt={file.name} width={64} height={64} style="object-fit: cover" />}
      <button type="button" class="link" onClick={() => void open()} aria-label={`${tr('open')} ${file.name}`}>
        {file.name}
      </button>
      <span class="muted small"> {Math.max(1, Math.round(file.size / 1024))} KB</span>
      {failed && <span class="field-error" role="alert"> {failed}</span>}
    </li>
  );
}

/** The evidence an event carried, as shown in a process's timeline. */
export function EvidenceList({ workflowId, files }: { workflowId: string; files: EvidenceRef[] }) {
  if (!files.length) return null;
  return (
    <ul class="plain evidence" aria-label={tr('evidence')}>
      {files.map((f) => (
        <EvidenceItem key={f.sha256} workflowId={workflowId} file={f} />
      ))}
    </ul>
  );
}

/** The evidence references in an event's data, if any. */
export const evidenceIn = (data: unknown): EvidenceRef[] => {
  const list = (data as { evidence?: unknown } | null | undefined)?.evidence;
  return Array.isArray(list) ? (list as EvidenceRef[]).filter((r) => typeof r?.sha256 === 'string') : [];
};
