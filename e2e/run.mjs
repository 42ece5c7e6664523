// End-to-end test of the motcua web application in Debian's headless Chromium (playwright-core
// with executablePath; no browser download). It starts `motcua serve --demo` on a fresh SQLite
// folder and drives, as real users would, the whole life of an online dossier and a counter
// intake; runs axe-core on the main pages (no serious or critical violation allowed); checks
// each main page at 360 px and prints its first-load weight (budget: 100 KB). Screenshots of
// every page go to target/e2e-artifacts/.
//
//   E2E_MOTCUA_BIN=target/debug/motcua CHROMIUM=/usr/bin/chromium node e2e/run.mjs

import { chromium } from 'playwright-core';
import XLSX from 'xlsx';
import { spawn, execFileSync } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const bin = resolve(root, process.env.E2E_MOTCUA_BIN ?? 'target/debug/motcua');
const artifacts = resolve(root, process.env.E2E_ARTIFACTS ?? 'target/e2e-artifacts');
const chromiumPath = process.env.CHROMIUM ?? '/usr/bin/chromium';
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const BUDGET = 100 * 1024;
const PASSWORD = 'motcua-demo';

rmSync(artifacts, { recursive: true, force: true });
mkdirSync(artifacts, { recursive: true });
const failures = [];
const check = (ok, what) => {
  if (!ok) failures.push(what);
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
};

// --- the server, and the remote-signing sandbox (with a timestamp authority) it signs through --
const dataDir = mkdtempSync(join(tmpdir(), 'motcua-e2e-'));
const sandboxPort = await new Promise((res) => {
  const probe = createServer();
  probe.listen(0, '127.0.0.1', () => { const { port } = probe.address(); probe.close(() => res(port)); });
});
const sandboxUrl = `http://127.0.0.1:${sandboxPort}`;
const server = spawn(bin, ['serve', '--demo', '--data-dir', dataDir, '--listen', '127.0.0.1:0'], {
  env: {
    ...process.env, NO_COLOR: '1', RUST_LOG: 'warn,motcua=info',
    MOTCUA_SIGNING__REMOTE_URL: sandboxUrl, MOTCUA_SIGNING__TSA_URL: `${sandboxUrl}/tsa`,
  },
  stdio: ['ignore', 'ignore', 'pipe'],
});
const base = await new Promise((res, rej) => {
  let log = '';
  const timer = setTimeout(() => rej(new Error(`server did not start:\n${log}`)), 120_000);
  server.stderr.on('data', (b) => {
    log += b.toString();
    const m = log.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
    if (m) { clearTimeout(timer); res(m[1]); }
  });
  server.on('exit', (code) => rej(new Error(`server exited (${code}):\n${log}`)));
});
console.log(`server at ${base}`);
// The demo made its development keys on start: the sandbox holds the people's keys, approves
// each request 1.5 s after it arrives (as a leader would on their phone), and stamps time.
const sandbox = spawn(bin, ['sign', 'sandbox', '--keys', join(dataDir, 'pki', 'users'),
  '--listen', `127.0.0.1:${sandboxPort}`, '--delay', '1.5'], { stdio: ['ignore', 'pipe', 'inherit'] });
await new Promise((res, rej) => {
  const timer = setTimeout(() => rej(new Error('the signing sandbox did not start')), 30_000);
  sandbox.stdout.on('data', (b) => { if (b.toString().includes('sandbox on')) { clearTimeout(timer); res(); } });
  sandbox.on('exit', (c) => rej(new Error(`the signing sandbox exited (${c})`)));
});

const browser = await chromium.launch({
  executablePath: chromiumPath,
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

let shot = 0;
async function snap(page, name) {
  shot += 1;
  await page.screenshot({ path: join(artifacts, `${String(shot).padStart(2, '0')}-${name}.png`), fullPage: true });
}

/** A signed-in browser context of one user (360 px wide for citizens, a 1366×768 office screen
 * for officers). */
// While the upload test drops a connection on purpose.
let dropping = false;

async function session(username, { mobile = false } = {}) {
  const ctx = await browser.newContext(mobile
    ? { viewport: { width: 360, height: 740 }, deviceScaleFactor: 1, locale: 'vi-VN' }
    : { viewport: { width: 1366, height: 768 }, locale: 'vi-VN' });
  const page = await ctx.newPage();
  page.on('pageerror', (e) => failures.push(`${username}: page error ${e.message}`));
  // A console error is a bug (a script or style the security policy blocked, a failed
  // script); pages answered 4xx on purpose (form errors) are checked by the steps themselves.
  page.on('console', (m) => {
    // The connection the upload test drops on purpose is not a bug either.
    const expected = /status of 4\d\d/.test(m.text()) || (dropping && /ERR_CONNECTION_RESET/.test(m.text()));
    if (m.type() === 'error' && !expected) failures.push(`${username}: console error ${m.text()}`);
  });
  page.on('response', (r) => {
    if (r.url().includes('/static/') && r.status() !== 200) failures.push(`static file ${r.url()}: ${r.status()}`);
  });
  // Nothing may come from anywhere but this server (htmx and styles are vendored).
  page.on('request', (r) => {
    if (!r.url().startsWith(base) && !r.url().startsWith('data:')) failures.push(`external request: ${r.url()}`);
  });
  if (username) {
    await page.goto(`${base}/dang-nhap`);
    await page.getByLabel('Tên đăng nhập hoặc số định danh cá nhân').fill(username);
    await page.getByLabel('Mật khẩu').fill(PASSWORD);
    await page.getByRole('button', { name: 'Đăng nhập' }).click();
    await page.waitForLoadState('load');
  }
  return page;
}

/** Opens the folded "other actions" to reach `action`'s form, as a user clicks them open. */
async function reveal(page, action) {
  const inner = page.locator(`#d-${action}`);
  if (!(await inner.count())) return;
  const outer = page.locator('#other-actions');
  if (!(await outer.evaluate((d) => d.open))) await outer.locator('> summary').click();
  if (!(await inner.evaluate((d) => d.open))) await inner.locator('> summary').click();
}

/** The action the dossier page leads with (its form inside #main-action, before the rest). */
async function mainAction(page) {
  const form = page.locator('#main-action form input[name=action]');
  if (!(await form.count())) return null;
  const first = await page.evaluate(() => {
    const m = document.getElementById('main-action');
    const o = document.getElementById('other-actions');
    return !o || Boolean(m.compareDocumentPosition(o) & Node.DOCUMENT_POSITION_FOLLOWING);
  });
  return first ? form.getAttribute('value') : 'not first';
}

async function act(page, action, fill = async () => {}) {
  await reveal(page, action);
  const form = page.locator(`#form-${action}`);
  await fill(form);
  await form.getByRole('button').click();
  await page.waitForLoadState('load');
}

async function statusOf(page) {
  return page.locator('#status').getAttribute('data-status');
}

const audited = [];
async function audit(page, name) {
  // Evaluated through the DevTools protocol: the pages' security policy forbids injected scripts.
  await page.evaluate(axeSource);
  const result = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length, help: v.help }));
  });
  const serious = result.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  audited.push({ name, violations: result });
  check(serious.length === 0, `axe: no serious violation on ${name}${serious.length ? ' — ' + JSON.stringify(serious) : ''}`);
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  const viewport = page.viewportSize().width;
  if (viewport <= 360) check(width <= viewport, `${name} fits 360 px (content width ${width})`);
}

try {
  // --- 1. A citizen finds a procedure on a phone, registers on the way, and files online ----
  const citizen = await session(null, { mobile: true });
  await citizen.goto(`${base}/`);
  await audit(citizen, 'home');
  await snap(citizen, 'home');
  await citizen.getByLabel('Tìm thủ tục (có dấu hoặc không dấu)').fill('khai sinh lai dang ky');
  await citizen.getByRole('button', { name: 'Tìm', exact: true }).click();
  await citizen.waitForLoadState('load');
  await citizen.getByRole('link', { name: 'Thủ tục đăng ký lại khai sinh' }).first().click();
  await citizen.waitForLoadState('load');
  await audit(citizen, 'procedure');
  await snap(citizen, 'procedure');
  const procedurePath = new URL(citizen.url()).pathname.replace('/thu-tuc/', '/nop/');
  await citizen.getByRole('link', { name: 'Nộp hồ sơ trực tuyến' }).click();
  await citizen.waitForLoadState('load');
  check(new URL(citizen.url()).pathname === '/dang-nhap', 'filing asks a visitor to log in first');
  await citizen.locator('#register-link').click();
  await citizen.waitForLoadState('load');
  await citizen.getByLabel('Số định danh cá nhân (12 số)').fill('008195001234');
  await citizen.getByLabel('Họ và tên').fill('Hoàng Thị Mai');
  await citizen.getByLabel('Số điện thoại').fill('0987 654 321');
  await citizen.getByLabel('Mật khẩu (ít nhất 8 ký tự)').fill('mat-khau-cua-mai');
  await audit(citizen, 'register');
  await citizen.getByRole('button', { name: 'Đăng ký' }).click();
  await citizen.waitForLoadState('load');
  check(new URL(citizen.url()).pathname === procedurePath, 'after registering, the citizen is back at the form they were going to');
  const places = await citizen.locator('#agency option').allTextContents();
  check(!places.some((p) => p.includes('Trung tâm Phục vụ hành chính công')), `only places that may receive a commune procedure are offered (${places.length - 1})`);
  await citizen.getByLabel('Nộp tại').selectOption('000.01.31.H58');
  await citizen.getByLabel('Xã, phường nơi cư trú').fill('minh xuan');
  // The copy of the birth record is to come by post: the dossier goes in incomplete.
  await citizen.locator('#c1').uncheck();
  await audit(citizen, 'file-online');
  await snap(citizen, 'file-online');
  await citizen.getByRole('button', { name: 'Nộp hồ sơ' }).click();
  await citizen.waitForLoadState('load');
  const code = (await citizen.locator('h1').innerText()).replace('Hồ sơ ', '').trim();
  check(/^000\.01\.31\.H58-\d{6}-\d{4}$/.test(code), `online dossier filed: ${code}`);
  check(await statusOf(citizen) === 'submitted', 'status submitted');
  check(await citizen.locator('#components li[data-index="1"][data-submitted="false"]').count() === 1, 'the missing component shows as not handed in');
  await audit(citizen, 'dossier-citizen');
  await snap(citizen, 'dossier-submitted');

  // --- 2. The one-stop officer asks for the missing paper, then accepts it -------------------
  const reception = await session('tiepnhan.minhxuan');
  await reception.goto(`${base}/mot-cua`);
  await audit(reception, 'counter');
  await reception.getByRole('link', { name: code }).click();
  await reception.waitForLoadState('load');
  await audit(reception, 'dossier-officer');
  check(await mainAction(reception) === 'accept', 'at the counter, accepting leads the page');
  await act(reception, 'request_supplement', async (f) => {
    await f.locator('input[name=missing][value="1"]').check();
    await f.getByLabel('Lý do').fill('Chưa nộp bản sao giấy tờ khai sinh');
  });
  check(await statusOf(reception) === 'awaiting_supplement', 'a supplement asked before acceptance');
  await citizen.goto(`${base}/ho-so/${code}`);
  check((await citizen.locator('#missing').innerText()).includes('Chưa nộp bản sao'), 'the citizen sees what is missing');
  check(await mainAction(citizen) === 'supplement_received', "the citizen's page leads with sending the supplement");
  await act(citizen, 'supplement_received');
  check(await statusOf(citizen) === 'submitted', 'the supplement is in: back to the counter');
  await reception.goto(`${base}/ho-so/${code}`);
  check(await mainAction(reception) === 'accept', 'accept leads again');
  // The paper came by post: the officer ticks it as received (one copy) and accepts.
  await act(reception, 'accept', async (f) => {
    await f.locator('#c1').check();
    check(await f.locator('#s1').inputValue() === '1', "the catalogue's number of copies is proposed");
  });
  check(reception.url().endsWith(`/ho-so/${code}/bien-nhan`), 'accepting opens the receipt');
  check((await reception.locator('#receipt-code').innerText()) === code, 'the receipt shows the code');
  check((await reception.content()).includes('Bản sao giấy tờ có thông tin khai sinh — 0 bản chính, 1 bản sao'), 'the receipt lists the component received at acceptance');
  await audit(reception, 'receipt');
  await snap(reception, 'receipt-online');
  // The receipt's QR code holds the full tracking URL; a USB scanner types it into the search
  // box of any officer page, and Enter opens the dossier.
  const trackUrl = await reception.locator('#track-url').innerText();
  check(trackUrl.startsWith('http') && trackUrl.endsWith(`/tra-cuu?ma=${code}`), `the receipt prints the full tracking URL (${trackUrl})`);
  const qrPng = join(artifacts, 'receipt-qr.png');
  await reception.locator('#track .qr').screenshot({ path: qrPng });
  let scanned = '';
  try {
    scanned = execFileSync('zbarimg', ['--quiet', '--raw', qrPng], { encoding: 'utf8' }).trim();
  } catch (e) {
    failures.push(`zbarimg could not read the receipt's QR code: ${e.message}`);
  }
  check(scanned === trackUrl, `the QR code decodes to the tracking URL (${scanned})`);
  await reception.goto(`${base}/mot-cua`);
  await reception.locator('#find').fill(scanned);
  await reception.locator('#find').press('Enter');
  await reception.waitForLoadState('load');
  check(new URL(reception.url()).pathname === `/ho-so/${code}`, 'the scanned code opens the dossier in one step');
  check(await reception.locator('#components li[data-index="1"][data-submitted="true"]').count() === 1, 'the component received at acceptance is recorded');
  await act(reception, 'forward');
  check(await statusOf(reception) === 'processing', 'forwarded to the specialist');

  // --- 3. The specialist asks for a supplement ---------------------------------------------
  const specialist = await session('chuyenvien.minhxuan');
  await specialist.goto(`${base}/xu-ly`);
  await audit(specialist, 'queue');
  await snap(specialist, 'queue');
  await specialist.getByRole('link', { name: code }).click();
  await specialist.waitForLoadState('load');
  check(await mainAction(specialist) === 'forward', "the specialist's page leads with forwarding");
  check((await specialist.locator('#next').innerText()).includes('Thẩm định'), 'the page names the step and who has it');
  await act(specialist, 'assign', async (f) => { await f.getByLabel('Giao cho').selectOption('chuyenvien.minhxuan'); });
  await specialist.goto(`${base}/xu-ly?loc=mine`);
  check(await specialist.getByRole('link', { name: code }).isVisible(), 'assigned: in "assigned to me"');
  await specialist.getByRole('link', { name: code }).click();
  await specialist.waitForLoadState('load');
  await act(specialist, 'request_supplement', async (f) => {
    await f.locator('input[name=missing]').first().check();
    await f.getByLabel('Lý do').fill('Bản chụp không rõ');
  });
  check(await statusOf(specialist) === 'awaiting_supplement', 'supplement requested');
  await snap(specialist, 'supplement-requested');
  await specialist.getByRole('link', { name: 'Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ' }).click();
  await specialist.waitForLoadState('load');
  check((await specialist.locator('#slip-items').innerText()).includes('Bản chụp không rõ'), 'the supplement request slip lists what is missing');
  await audit(specialist, 'slip-supplement');
  await snap(specialist, 'slip-supplement');

  // --- 4. The citizen supplements ----------------------------------------------------------
  await citizen.goto(`${base}/ho-so`);
  await audit(citizen, 'my-dossiers');
  await citizen.locator('#my-dossiers li', { hasText: code }).getByRole('link').click();
  await citizen.waitForLoadState('load');
  check((await citizen.locator('#missing').innerText()).includes('Bản chụp không rõ'), 'the citizen sees what is missing, at the top');
  await act(citizen, 'supplement_received', async (f) => { await f.locator('#c0').check(); });
  check(await statusOf(citizen) === 'processing', 'supplement received, processing again');
  await snap(citizen, 'supplemented');

  // --- 5. The specialist drafts the result and forwards; the leader signs it through the
  // remote-signing service (approved on the device), approves; the result is returned -------
  await specialist.goto(`${base}/ho-so/${code}`);
  await specialist.locator('#upload-component').selectOption('result');
  await specialist.locator('#upload-file').setInputFiles(resolve(root, 'fixtures/ocr/archive_scan.pdf'));
  await specialist.locator('#upload-file').evaluate((i) => i.form.querySelector('button[type=submit]').click());
  await specialist.waitForURL(/tep=1/, { timeout: 60_000 }).catch(() => {});
  await specialist.goto(`${base}/ho-so/${code}`);
  await act(specialist, 'forward');
  const leader = await session('lanhdao.minhxuan');
  await leader.goto(`${base}/ky-so`);
  await audit(leader, 'signing-queue');
  const row = leader.locator('tr', { hasText: code });
  check(await row.count() === 1, 'the result waits in the leader\'s signing queue');
  check(await row.getByRole('link', { name: 'archive_scan.pdf' }).count() === 1, 'the leader can open the result before signing');
  await row.getByRole('checkbox').check();
  await leader.getByRole('button', { name: 'Ký các kết quả đã chọn' }).click();
  await leader.waitForLoadState('load');
  const seen = new Set();
  let signedState = '';
  for (let i = 0; i < 60; i++) {
    signedState = await leader.locator('tr', { hasText: code }).getAttribute('data-state');
    seen.add(signedState);
    if (signedState === 'signed' || signedState === 'failed' || signedState === 'refused') break;
    await leader.waitForTimeout(500);
  }
  await snap(leader, 'signing-queue');
  check(signedState === 'signed', `signed by the leader and sealed (states seen without reloading: ${[...seen].join(' → ')})`);
  await leader.goto(`${base}/xu-ly?loc=approval`);
  await snap(leader, 'approval-queue');
  await leader.getByRole('link', { name: code }).click();
  await leader.waitForLoadState('load');
  check(await mainAction(leader) === 'approve', "the leader's page leads with approving");
  await audit(leader, 'dossier-leader');
  await snap(leader, 'dossier-leader');
  await act(leader, 'approve');
  check(await statusOf(leader) === 'resolved', 'approved');
  await reception.goto(`${base}/ho-so/${code}`);
  await act(reception, 'return_result', async (f) => { await f.getByLabel('Bản điện tử').check(); });
  check(await statusOf(reception) === 'returned', 'result returned electronically');

  await citizen.goto(`${base}/ho-so/${code}`);
  check(await statusOf(citizen) === 'returned', 'the citizen sees the result returned');
  await citizen.getByRole('link', { name: 'Phiếu kiểm soát quá trình giải quyết hồ sơ' }).click();
  await citizen.waitForLoadState('load');
  check((await citizen.locator('tbody tr').count()) >= 10, 'the control slip lists every hand-off');
  await audit(citizen, 'slip-control');
  await snap(citizen, 'slip-control');
  await citizen.goto(`${base}/ho-so/${code}`);
  check((await citizen.content()).includes('Đã trả kết quả'), 'in words');
  await snap(citizen, 'returned');

  // The citizen downloads the signed result from their data warehouse, and anyone can check
  // it on the public verification page.
  await citizen.goto(`${base}/kho-du-lieu`);
  const entry = citizen.locator('li', { hasText: 'Kết quả:' }).filter({ hasText: 'Bản điện tử có chữ ký số' });
  check(await entry.count() >= 1, 'the signed result is in the citizen\'s data warehouse');
  const href = await entry.first().getByRole('link', { name: 'Tải xuống' }).getAttribute('href');
  const download = await citizen.context().request.get(`${base}${href}`);
  const signedPdf = Buffer.from(await download.body());
  check(download.ok() && signedPdf.subarray(0, 5).toString() === '%PDF-', `the citizen downloads the signed result (${signedPdf.length} B)`);
  const signedPath = join(dataDir, 'ket-qua-da-ky.pdf');
  writeFileSync(signedPath, signedPdf);
  const verifier = await session(null, { mobile: true });
  await verifier.goto(`${base}/xac-thuc-chu-ky`);
  await audit(verifier, 'verify-form');
  await verifier.locator('#file').setInputFiles(signedPath);
  await verifier.getByRole('button', { name: 'Xác thực' }).click();
  await verifier.waitForLoadState('load');
  await audit(verifier, 'verify-result');
  await snap(verifier, 'verify-result');
  const valid = await verifier.locator('[data-valid="true"]').count();
  const verdict = await verifier.locator('main').innerText();
  check(valid === 2 && verdict.includes('Trần Văn Hùng') && verdict.includes('có dấu thời gian'),
    `the public page reports the leader's signature and the agency seal valid, timestamped (${valid} valid)`);

  // Public tracking, no login, no personal data.
  const anon = await session(null, { mobile: true });
  await anon.goto(`${base}/tra-cuu?ma=${code}`);
  await audit(anon, 'tracking');
  await snap(anon, 'tracking');
  const tracked = await anon.content();
  check(tracked.includes('Đã trả kết quả') && !tracked.includes('Hoàng Thị Mai'), 'tracking shows status, not the name');

  // --- 6. A counter intake that prints a receipt, on a 1366×768 office screen ---------------
  await reception.goto(`${base}/mot-cua`);
  await reception.getByLabel('Tên hoặc mã thủ tục').fill('tam tru');
  await reception.getByRole('button', { name: 'Tìm', exact: true }).click();
  await reception.waitForLoadState('load');
  await reception.getByRole('link', { name: 'Đăng ký tạm trú', exact: true }).click();
  await reception.waitForLoadState('load');
  const fillCounter = async () => {
    await reception.getByLabel('Số định danh cá nhân / mã số doanh nghiệp').fill('008190001234');
    await reception.getByLabel('Họ tên / tên tổ chức').fill('Nguyễn Văn An');
    await reception.getByLabel('Số điện thoại').fill('0912345678');
    await reception.getByLabel('Xã, phường nơi cư trú').fill('Phường Minh Xuân (02215)');
    await reception.getByLabel('Qua bưu chính công ích').check();
    for (const box of await reception.locator('input[type=checkbox][name^=c]').all()) await box.check();
  };
  await fillCounter();
  const width = await reception.evaluate(() => document.documentElement.scrollWidth);
  check(width <= 1366, `the counter form fits a 1366×768 screen (content width ${width})`);
  const submitBox = await reception.locator('#receive').boundingBox();
  check(submitBox && submitBox.x + submitBox.width <= 1366 && submitBox.y + submitBox.height <= 768,
    `the whole form, up to the receive button, fits on the screen without scrolling (button bottom at ${submitBox && Math.round(submitBox.y + submitBox.height)} px)`);
  await audit(reception, 'counter-form');
  await snap(reception, 'counter-form');
  await reception.getByRole('button', { name: 'Tiếp nhận và in giấy hẹn' }).click();
  await reception.waitForLoadState('load');
  const counterCode = await reception.locator('#receipt-code').innerText();
  check(/^000\.01\.31\.H58-\d{6}-\d{4}$/.test(counterCode), `counter intake printed receipt ${counterCode}`);
  check((await reception.locator('#receipt-due').innerText()).length > 0, 'the receipt shows the appointment');
  await snap(reception, 'receipt-counter');
  // The counter prints the receipt from its PDF (form 01 of the set in force).
  const pdfHref = await reception.locator('#receipt-pdf').getAttribute('href');
  const pdf = await reception.request.get(`${base}${pdfHref}`);
  const pdfBytes = await pdf.body();
  check(pdf.headers()['content-type'] === 'application/pdf' && pdfBytes.subarray(0, 5).toString() === '%PDF-',
    `the receipt's print button gives its PDF (${pdfBytes.length} bytes)`);
  await reception.goto(`${base}/ho-so/${counterCode}`);
  check((await reception.locator('#delivery').getAttribute('data-delivery')) === 'postal', 'the way the result is returned is recorded at intake');
  // The same applicant and procedure again a minute later: the form asks instead of filing twice.
  await reception.goto(`${base}/mot-cua?thu_tuc=1.004194`);
  await fillCounter();
  await reception.getByRole('button', { name: 'Tiếp nhận và in giấy hẹn' }).click();
  await reception.waitForLoadState('load');
  check(await reception.locator('#duplicate').isVisible(), 'a repeated filing asks for confirmation');
  check((await reception.locator('#duplicate').innerText()).includes(counterCode), 'naming the dossier just filed');
  await snap(reception, 'counter-duplicate');
  await reception.getByRole('button', { name: 'Vẫn tiếp nhận hồ sơ mới' }).click();
  await reception.waitForLoadState('load');
  const secondCode = await reception.locator('#receipt-code').innerText();
  check(secondCode !== counterCode, `confirmed: a second dossier ${secondCode}`);

  // A returning applicant: looked up by ID, the form comes filled from their last dossier.
  await reception.goto(`${base}/mot-cua?thu_tuc=1.004194`);
  await reception.getByLabel('Tra cứu người nộp theo số định danh / mã số thuế').fill('008190001234');
  await reception.getByRole('button', { name: 'Tra cứu' }).click();
  await reception.waitForLoadState('load');
  check(await reception.getByLabel('Họ tên / tên tổ chức').inputValue() === 'Nguyễn Văn An', 'a returning applicant is filled in');
  check(await reception.getByRole('link', { name: counterCode }).isVisible(), 'with their earlier dossiers');

  // A bad form shows its errors in the page.
  await reception.goto(`${base}/mot-cua?thu_tuc=1.004194`);
  await reception.getByLabel('Số định danh cá nhân / mã số doanh nghiệp').fill('123');
  await reception.getByLabel('Họ tên / tên tổ chức').fill('X');
  await reception.getByRole('button', { name: 'Tiếp nhận và in giấy hẹn' }).click();
  await reception.waitForLoadState('load');
  check(await reception.locator('#form-errors').isVisible(), 'form errors are shown in the page');
  await snap(reception, 'counter-errors');

  // --- 6b. A scan uploaded on a slow link, read, confirmed with the keyboard, then reused --
  await reception.goto(`${base}/ho-so/${counterCode}`);
  const cdp = await reception.context().newCDPSession(reception);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', {
    offline: false, latency: 300, downloadThroughput: 50 * 1024, uploadThroughput: 50 * 1024,
  });
  await reception.locator('#upload-component').selectOption('1');
  await reception.locator('#upload-file').setInputFiles(resolve(root, 'fixtures/ocr/id_front.png'));
  // The connection drops during the second chunk: the script must resume from the offset the
  // server acknowledged, not start again.
  const patches = [];
  const chunkRoute = /\/tai-len\/[0-9a-f]+$/;
  await reception.route(chunkRoute, async (route) => {
    const req = route.request();
    if (req.method() !== 'PATCH') return route.continue();
    const offset = req.headers()['upload-offset'];
    const dropped = offset !== '0' && !patches.some((p) => p.dropped);
    patches.push({ offset, dropped });
    return dropped ? route.abort('connectionreset') : route.continue();
  });
  const started = Date.now();
  dropping = true;
  await reception.getByRole('button', { name: 'Tải lên' }).click();
  await reception.waitForFunction(() => {
    const b = document.querySelector('#upload-bar');
    return b && b.offsetParent !== null && b.value > 0 && b.value < b.max;
  }, null, { timeout: 60_000 });
  check(true, 'the upload shows its progress');
  await reception.waitForURL(/tep=1/, { timeout: 180_000 });
  const took = Date.now() - started;
  await reception.unroute(chunkRoute);
  dropping = false;
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
  check((await reception.locator('.notice').innerText()).includes('Đã nhận tệp'), `a 250 KB scan uploaded in chunks at 50 KB/s (${(took / 1000).toFixed(1)} s)`);
  const offsets = patches.map((p) => p.offset + (p.dropped ? ' (dropped)' : ''));
  check(patches.some((p) => p.dropped) && patches.filter((p) => p.offset === '0').length === 1,
    `after the dropped connection the upload resumed where it stopped: ${offsets.join(', ')}`);
  let read = false;
  for (let i = 0; i < 60 && !read; i++) {
    await reception.goto(`${base}/ho-so/${counterCode}`);
    read = (await reception.locator('#components li[data-index="1"] .files').innerText()).includes('đã đọc');
    if (!read) await reception.waitForTimeout(500);
  }
  check(read, 'the scan is read (OCR) in the background');
  await reception.getByRole('link', { name: 'Xác nhận số hóa' }).first().click();
  await reception.waitForLoadState('load');
  await audit(reception, 'digitise');
  await snap(reception, 'digitise');
  check(await reception.locator('#f-id_number').inputValue() === '008195009999', 'the ID number read from the card');
  // Keyboard only: the first field has the focus; Tab to the sex (marked to check), retype it,
  // Enter confirms.
  check(await reception.evaluate(() => document.activeElement.id) === 'f-id_number', 'the form starts on the first field');
  for (let i = 0; i < 3; i++) await reception.keyboard.press('Tab');
  check(await reception.evaluate(() => document.activeElement.id) === 'f-sex', 'Tab reaches the sex');
  await reception.keyboard.press('Control+A');
  await reception.keyboard.type('Nữ');
  await reception.keyboard.press('Enter');
  await reception.waitForLoadState('load');
  const digitised = await reception.locator('.notice').innerText();
  check(digitised.includes('KQS-000.01.31.H58-'), `confirmed as digitised: ${digitised}`);
  const docCode = digitised.split(': ').pop().trim();
  // The applicant's next dossier at the counter takes the copy: no paper, counted as a reuse.
  await reception.goto(`${base}/mot-cua?thu_tuc=1.004194&id_number=008190001234`);
  await reception.locator('#w1').check();
  await reception.locator('#c0').check();
  await reception.getByLabel('Xã, phường nơi cư trú').fill('minh xuan');
  await reception.getByRole('button', { name: /Tiếp nhận và in giấy hẹn|Vẫn tiếp nhận hồ sơ mới/ }).click();
  await reception.waitForLoadState('load');
  if (await reception.locator('#duplicate').count()) {
    await reception.getByRole('button', { name: 'Vẫn tiếp nhận hồ sơ mới' }).click();
    await reception.waitForLoadState('load');
  }
  if (!(await reception.locator('#receipt-code').count())) {
    await snap(reception, 'reuse-failed');
    failures.push(`reuse filing failed: ${await reception.locator('main').innerText()}`);
  }
  const reuseCode = await reception.locator('#receipt-code').innerText();
  await reception.goto(`${base}/ho-so/${reuseCode}`);
  check((await reception.locator('#components li[data-index="1"]').innerText()).includes(docCode), `the second dossier ${reuseCode} reuses ${docCode}`);

  // --- 7. Admin -------------------------------------------------------------------------
  const admin = await session('admin');
  await admin.goto(`${base}/quan-tri`);
  await audit(admin, 'admin');
  await snap(admin, 'admin');
  await admin.goto(`${base}/quan-tri/don-vi?q=${encodeURIComponent('Tân Quang')}`);
  check((await admin.content()).includes('Phường Minh Xuân'), 'an old ward shows the unit it merged into');
  await audit(admin, 'admin-units');
  await admin.goto(`${base}/quan-tri/tac-vu`);
  check((await admin.content()).includes('audit.seal'), 'the job queue shows the audit sealer');
  check(/niêm phong/i.test(await admin.locator('#seal-backlog').innerText()), 'the job queue shows the audit sealer\'s backlog');
  await audit(admin, 'admin-jobs');
  await admin.goto(`${base}/quan-tri/mot-thu-tuc?ma=1.004884`);
  const json = JSON.parse(await admin.locator('#text').inputValue());
  json.time_limit = { value: 4, unit: 'working_days' };
  await admin.locator('#text').fill(JSON.stringify(json, null, 2));
  await admin.getByRole('button', { name: 'Lưu' }).click();
  await admin.waitForLoadState('load');
  check((await admin.content()).includes('Đã lưu.'), 'an admin edits a procedure');
  await admin.goto(`${base}/thu-tuc/1.004884`);
  check((await admin.content()).includes('4 ngày làm việc'), 'the catalogue shows the edit at once');
  await admin.goto(`${base}/quan-tri/quy-trinh?thu_tuc=1.004884`);
  await audit(admin, 'admin-process');
  await snap(admin, 'admin-process');

  // Users: find one, reset the password; the user must choose a new one at the next login.
  await admin.goto(`${base}/quan-tri/nguoi-dung`);
  await admin.getByLabel('Tên đăng nhập hoặc họ tên (có dấu hoặc không dấu)').fill('lanh dao');
  await admin.getByRole('button', { name: 'Tìm', exact: true }).click();
  await admin.waitForLoadState('load');
  await audit(admin, 'admin-users');
  await snap(admin, 'admin-users');
  check((await admin.content()).includes('Lãnh đạo phê duyệt'), 'role names in Vietnamese');
  await admin.getByRole('link', { name: 'lanhdao.minhxuan' }).click();
  await admin.waitForLoadState('load');
  await audit(admin, 'admin-user');
  await admin.locator('#reset-password').click();
  await admin.waitForLoadState('load');
  const temp = (await admin.locator('#temp-password').innerText()).trim();
  check(temp.length === 12, 'a temporary password is shown once');
  await admin.locator('#lock').click();
  await admin.waitForLoadState('load');
  check(await admin.locator('#confirm-yes').isVisible(), 'locking asks for confirmation');
  await admin.locator('#confirm-no').click();
  await admin.waitForLoadState('load');
  check((await admin.locator('#state').innerText()).includes('Hoạt động'), 'not locked without confirmation');
  const reset = await browser.newContext({ viewport: { width: 1366, height: 768 } });
  const lp = await reset.newPage();
  await lp.goto(`${base}/dang-nhap`);
  await lp.getByLabel('Tên đăng nhập hoặc số định danh cá nhân').fill('lanhdao.minhxuan');
  await lp.getByLabel('Mật khẩu').fill(temp);
  await lp.getByRole('button', { name: 'Đăng nhập' }).click();
  await lp.waitForLoadState('load');
  check(new URL(lp.url()).pathname === '/doi-mat-khau', 'a reset password must be changed first');
  await lp.getByLabel('Mật khẩu hiện tại').fill(temp);
  await lp.getByLabel('Mật khẩu mới (ít nhất 8 ký tự)').fill('lanh-dao-minh-xuan-2026');
  await lp.getByLabel('Nhập lại mật khẩu mới').fill('lanh-dao-minh-xuan-2026');
  await lp.getByRole('button', { name: 'Đổi mật khẩu' }).click();
  await lp.waitForLoadState('load');
  check(new URL(lp.url()).pathname === '/xu-ly', 'then the leader goes on to work');
  await reset.close();

  // --- 7b. Figures: the operations centre and an officer's counters ------------------------
  const ioc = await session('ioc');
  check(new URL(ioc.url()).pathname === '/ioc', 'the operations centre lands on its dashboard');
  const iocHtml = await ioc.content();
  for (const personal of ['Hoàng Thị Mai', '008195001234', '008190001234', '0987 654 321', '0912345678']) {
    check(!iocHtml.includes(personal), `no personal data on the IOC page (${personal})`);
  }
  check(await ioc.locator('figure.trend svg').count() === 1, 'the trend is drawn as inline SVG');
  check(!(await ioc.evaluate(() => [...document.scripts].some((s) => /chart/i.test(s.src)))), 'no chart JavaScript');
  check(await ioc.locator('#ranking tbody tr').count() > 0, 'the index ranking is shown');
  check((await ioc.locator('#overdue-list').count()) === 1, 'the overdue list is there');
  await audit(ioc, 'ioc');
  await snap(ioc, 'ioc');
  const received = Number((await ioc.locator('.tile .value').first().innerText()).trim());
  check(received > 0, `the IOC counts the dossiers received this year (${received})`);
  // A viewer cannot open a dossier.
  const denied = await ioc.goto(`${base}/ho-so/${encodeURIComponent(code)}`);
  check(denied.status() === 404 || denied.status() === 403, `the viewer cannot open a dossier (${denied.status()})`);
  await ioc.goto(`${base}/ioc`);
  const [xlsxFile] = await Promise.all([ioc.waitForEvent('download'), ioc.locator('#export-xlsx').click()]);
  const book = XLSX.read(readFileSync(await xlsxFile.path()));
  const rows = XLSX.utils.sheet_to_json(book.Sheets[book.SheetNames[0]], { header: 1 });
  const header = rows.find((r) => r.includes('Tổng số hồ sơ tiếp nhận (received)'));
  const total = rows.find((r) => r[0] === 'Tổng cộng');
  check(header && total && total[header.indexOf('Tổng số hồ sơ tiếp nhận (received)')] === received,
    `the XLSX read back gives the same figure (${total && header ? total[header.indexOf('Tổng số hồ sơ tiếp nhận (received)')] : '?'} = ${received})`);
  const officer = await session('chuyenvien.minhxuan');
  await officer.goto(`${base}/tong-quan`);
  await audit(officer, 'counters');
  const counter = officer.locator('#counters a.counter[href="/xu-ly"]');
  const inProgress = Number((await counter.locator('.n').innerText()).trim());
  await counter.click();
  await officer.waitForLoadState('load');
  check(new URL(officer.url()).pathname === '/xu-ly', 'a counter opens its list');
  check(await officer.locator('#counters').count() === 1, 'the work queue shows the counters too');
  check(inProgress >= 0, `in progress at the agency: ${inProgress}`);

  // --- 8. Live search (htmx, under the security policy), English, JavaScript off ----------
  await anon.goto(`${base}/`);
  await anon.getByLabel('Tìm thủ tục (có dấu hoặc không dấu)').pressSequentially('ket hon', { delay: 30 });
  await anon.getByRole('link', { name: 'Thủ tục đăng ký kết hôn', exact: true }).waitFor({ timeout: 10_000 });
  check(new URL(anon.url()).pathname === '/' && !anon.url().includes('q='), 'search results appear as one types');

  await anon.goto(`${base}/ngon-ngu?l=en&next=/tra-cuu`);
  check((await anon.content()).includes('Track a dossier'), 'English is available');
  const noJs = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 360, height: 740 } });
  const plain = await noJs.newPage();
  await plain.goto(`${base}/?q=khai+sinh`);
  check(await plain.getByRole('link', { name: 'Thủ tục đăng ký khai sinh' }).first().isVisible(), 'search works without JavaScript');
  await plain.goto(`${base}/tra-cuu?ma=${encodeURIComponent(code)}`);
  check((await plain.content()).includes(code), 'tracking works without JavaScript');

  // --- 9. First-load weight of the main pages ----------------------------------------------
  console.log('\npage weight (first load, empty cache, bytes on the wire incl. headers):');
  const weigh = [['home', '/'], ['procedure', '/thu-tuc/1.004884'], ['tracking', `/tra-cuu?ma=${code}`],
    ['login', '/dang-nhap'], ['register', '/dang-ky'], ['verify', '/xac-thuc-chu-ky']];
  for (const [name, path] of weigh) {
    const ctx = await browser.newContext();
    const p = await ctx.newPage();
    await p.goto(`${base}${path}`, { waitUntil: 'load' });
    const bytes = await p.evaluate(() => {
      const nav = performance.getEntriesByType('navigation')[0];
      return nav.transferSize + performance.getEntriesByType('resource').reduce((s, r) => s + r.transferSize, 0);
    });
    console.log(`  ${name.padEnd(10)} ${String(bytes).padStart(7)} B`);
    check(bytes > 0 && bytes < BUDGET, `${name} first load under 100 KB (${bytes} B)`);
    await ctx.close();
  }
} catch (e) {
  failures.push(`exception: ${e.stack ?? e}`);
  console.error(e);
} finally {
  console.log(`\naxe-core checked ${audited.length} pages; minor/moderate findings: ${
    audited.flatMap((a) => a.violations.filter((v) => v.impact !== 'serious' && v.impact !== 'critical').map((v) => `${a.name}:${v.id}`)).join(', ') || 'none'}`);
  await browser.close();
  server.kill('SIGTERM');
  sandbox.kill('SIGTERM');
  rmSync(dataDir, { recursive: true, force: true });
}

if (failures.length) {
  console.error(`\n${failures.length} failure(s):\n- ${failures.join('\n- ')}`);
  process.exit(1);
}
console.log(`\ne2e: all checks passed; screenshots in ${artifacts}`);
