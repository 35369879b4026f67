import { checkEvidence } from '../../engine/evidence';
import { validateDocument } from '../../engine/validate';
import { signS3Request, sniffType } from '../../services/evidence.service';
import { signBody } from '../../services/intake.service';
import { loadConfig } from '../../config/config';
import crypto from 'node:crypto';

const ref = (n = 1) => ({ sha256: crypto.createHash('sha256').update(String(n)).digest('hex'), name: `p${n}.jpg`, type: 'image/jpeg', size: 100 });

function doc(evidence: unknown) {
  return {
    key: 'evidence-rules',
    title: 'evidence rules',
    grid: 'required',
    events: { RESOLVE: { type: 'object', required: ['result'], properties: { result: { type: 'string' } } } },
    evidence,
    machine: {
      id: 'evidence-rules',
      initial: 'open',
      states: {
        open: { meta: { task: { role: 'grid-worker', title: 'fix', due: { after: '1h' } }, timers: [{ id: 't', when: { after: '2h' }, send: 'LATE' }] }, on: { RESOLVE: 'done', LATE: 'done' } },
        done: { type: 'final' },
      },
    },
  };
}

test('a required evidence refuses an event without files, naming where files come from', () => {
  expect(checkEvidence('RESOLVE', { required: true }, undefined)[0].message).toMatch(/requires evidence.*POST \/api\/processes\/:id\/evidence/);
  expect(checkEvidence('RESOLVE', { required: true }, [])).toHaveLength(1);
  expect(checkEvidence('RESOLVE', { required: true }, [ref()])).toEqual([]);
  expect(checkEvidence('CHECK_IN', { max: 3 }, undefined)).toEqual([]);
});

test('evidence beyond max, a file twice, malformed references and evidence on an event without a rule are refused', () => {
  expect(checkEvidence('RESOLVE', { max: 2 }, [ref(1), ref(2), ref(3)])[0].message).toBe('event "RESOLVE" takes at most 2 file(s); got 3');
  expect(checkEvidence('RESOLVE', { max: 5 }, [ref(1), ref(1)]).map((e) => e.message)).toContain('the same file twice; send each file once');
  const bad = checkEvidence('RESOLVE', {}, [{ sha256: 'abc', name: '', type: 'jpeg', size: 0, url: 'x' }]);
  expect(bad.map((e) => e.path).sort()).toEqual(['data.evidence.0', 'data.evidence.0.name', 'data.evidence.0.sha256', 'data.evidence.0.size', 'data.evidence.0.type']);
  expect(checkEvidence('START', undefined, [ref()])[0].message).toMatch(/takes no evidence/);
});

test('the validator accepts an evidence block for events a person sends and points at the rest', () => {
  expect(validateDocument(doc({ RESOLVE: { required: true, max: 5 } })).valid).toBe(true);
  expect(validateDocument(doc({ RESOLVE: { max: 0 } })).errors.map((e) => e.path)).toEqual(['evidence.RESOLVE.max']);
  const r = validateDocument(doc({ RESOLV: { max: 1 }, LATE: { max: 1 } }));
  expect(r.errors.map((e) => e.path).sort()).toEqual(['evidence.LATE', 'evidence.RESOLV']);
  expect(r.errors.find((e) => e.path === 'evidence.RESOLV')?.message).toMatch(/no state handles event "RESOLV"; events that may take evidence: RESOLVE/);
  expect(r.errors.find((e) => e.path === 'evidence.LATE')?.message).toMatch(/sent by a timer/);
});

test('S3 requests are signed with SigV4 as in the AWS documentation example (GET Object)', () => {
  const headers = signS3Request({
    method: 'GET',
    url: new URL('https://examplebucket.s3.amazonaws.com/test.txt'),
    region: 'us-east-1',
    accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
    secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    payloadHash: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    headers: { Range: 'bytes=0-9' },
    now: new Date('2013-05-24T00:00:00Z'),
  });
  expect(headers.authorization).toBe(
    'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41',
  );
});

test('a file is recognised by its first bytes, whatever its name says', () => {
  expect(sniffType(Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0]))).toBe('image/jpeg');
  expect(sniffType(Buffer.from('89504e470d0a1a0a0000', 'hex'))).toBe('image/png');
  expect(sniffType(Buffer.concat([Buffer.from('RIFF'), Buffer.alloc(4), Buffer.from('WEBPVP8 ')]))).toBe('image/webp');
  expect(sniffType(Buffer.from('%PDF-1.7\n'))).toBe('application/pdf');
  expect(sniffType(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'))).toBeUndefined();
});

test('status webhooks are signed over the timestamp and the body with HMAC-SHA256', () => {
  const expected = crypto.createHmac('sha256', 'whsec_x').update('1700000000.{"a":1}').digest('hex');
  expect(signBody('whsec_x', '1700000000', '{"a":1}')).toBe(`sha256=${expected}`);
});

test('evidence settings: 10 MB of images and PDF on the local disk by default; S3 needs its endpoint, bucket and keys', () => {
  const c = loadConfig({ GRIDFLOW_DATA_DIR: '/tmp/gf' });
  expect(c.evidence).toEqual({ maxBytes: 10 * 1024 * 1024, types: ['image/jpeg', 'image/png', 'image/webp', 'application/pdf'], store: { kind: 'local', dir: '/tmp/gf/evidence' } });
  expect(() => loadConfig({ GRIDFLOW_EVIDENCE_STORE: 's3', GRIDFLOW_S3_BUCKET: 'photos' })).toThrow(/GRIDFLOW_S3_ENDPOINT: must be set when GRIDFLOW_EVIDENCE_STORE=s3/);
  expect(() => loadConfig({ GRIDFLOW_EVIDENCE_TYPES: 'image/svg+xml' })).toThrow(/GRIDFLOW_EVIDENCE_TYPES: must be a comma-separated list of image\/jpeg/);
  const s3 = loadConfig({ GRIDFLOW_EVIDENCE_STORE: 's3', GRIDFLOW_S3_ENDPOINT: 'http://127.0.0.1:9000', GRIDFLOW_S3_BUCKET: 'photos', GRIDFLOW_S3_ACCESS_KEY_ID: 'k', GRIDFLOW_S3_SECRET_ACCESS_KEY: 's' });
  expect(s3.evidence.store).toEqual({ kind: 's3', endpoint: 'http://127.0.0.1:9000', bucket: 'photos', region: 'us-east-1', accessKeyId: 'k', secretAccessKey: 's' });
});
