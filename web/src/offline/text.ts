/** The field page's own strings (offline banner, queue, photos), zh-CN first, kept beside the code that uses them. */
import { currentLang } from '../i18n';

const zh = {
  offline: '离线',
  lastSync: '上次同步 {time}',
  neverSynced: '尚未同步',
  offlineHelp: '显示的是上次同步时的任务；现在的操作保存在本机，联网后按顺序发送。',
  outbox: '本机操作队列',
  waiting: '等待发送',
  sending: '正在发送',
  sent: '已发送',
  refused: '被拒绝',
  takenAt: '{time} 记录',
  photos: '照片 {n} 张',
  lastTry: '未能发送：{message}',
  retryAt: '{time} 自动重试',
  sendNow: '立即发送',
  dismiss: '知道了',
  maybeApplied: '此前的一次发送没有收到回复，可能已被记录，请在流程记录中核对。',
  queued: '{event} · 已保存在本机，联网后发送',
  signIn: '登录已失效：重新登录后继续发送。',
  photoHelp: '拍照或从相册选择；照片在手机上缩小后保存（最长边 1600 像素）。',
  storage: '本机已用 {used}，可用约 {quota}',
  why409: '流程现在不接受这项操作（可能已提交或已结束）',
  why403: '无权进行这项操作',
  why404: '流程不存在或不可见',
  why400: '内容不符合要求',
  why413: '照片太大',
  why415: '照片格式不被接受',
  installHint: '可在浏览器菜单中选择“添加到主屏幕”，离线也能打开。',
};
type Key = keyof typeof zh;

const en: Record<Key, string> = {
  offline: 'Offline',
  lastSync: 'last synced {time}',
  neverSynced: 'not synced yet',
  offlineHelp: 'These are the tasks as of the last sync; what you do now is kept on this phone and sent in order when the network returns.',
  outbox: 'Actions on this phone',
  waiting: 'Waiting',
  sending: 'Sending',
  sent: 'Sent',
  refused: 'Refused',
  takenAt: 'taken {time}',
  photos: '{n} photo(s)',
  lastTry: 'Not sent: {message}',
  retryAt: 'retrying at {time}',
  sendNow: 'Send now',
  dismiss: 'Dismiss',
  maybeApplied: 'An earlier attempt got no answer and may have been recorded; check the process history.',
  queued: '{event} · kept on this phone, sent when the network returns',
  signIn: 'Your sign-in has expired: sign in again to go on sending.',
  photoHelp: 'Take a photo or choose one; it is made smaller on the phone (longest side 1600 px).',
  storage: '{used} used on this phone, about {quota} available',
  why409: 'the process does not take this now (it may have been submitted or ended)',
  why403: 'you may not do this',
  why404: 'the process does not exist or is not yours to see',
  why400: 'the data is not acceptable',
  why413: 'the photo is too large',
  why415: 'the photo type is not accepted',
  installHint: 'Use the browser menu’s “Add to Home screen” to open this page offline too.',
};

export function ft(key: Key, vars: Record<string, string | number> = {}): string {
  const s = (currentLang() === 'zh' ? zh : en)[key];
  return s.replace(/\{(\w+)\}/g, (_, k: string) => String(vars[k] ?? ''));
}

/** A short reason for a refusal's status, put before the server's own message. */
export function whyRefused(status: number): string {
  const key = `why${status}` as Key;
  return key in zh ? ft(key) : `HTTP ${status}`;
}

export function megabytes(bytes: number): string {
  return bytes >= 1024 * 1024 * 1024 ? `${(bytes / 1024 / 1024 / 1024).toFixed(1)} GB` : `${Math.max(0.1, bytes / 1024 / 1024).toFixed(1)} MB`;
}
