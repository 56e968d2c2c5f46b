import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConsoleLogger } from '@nestjs/common';
import { parse } from 'csv-parse/sync';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HttpApi, startHttpApi } from '#http-api';
import { UsersFile } from '#operator-access';
import { startTestService, type TestService } from '#testing/service';

/** Screenshots of what a person sees, kept as CI artifacts (the folder is not a source). */
const ARTIFACTS = path.resolve('test/artifacts');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Live changes arrive within a second; the waits leave room for a machine busy with other tests. */
const WAIT = { timeout: 15_000 };

let service: TestService;
let http: HttpApi;
let browser: Browser;
let folder: string;
let adminToken: string;
let viewerToken: string;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(`no Chromium at ${CHROMIUM}: install Debian's (apt-get install chromium) or set CHROMIUM_PATH`);
  folder = mkdtempSync(path.join(tmpdir(), 'console-e2e-'));
  mkdirSync(ARTIFACTS, { recursive: true });
  // The console as `npm run build` makes it, in this test's own folder.
  const consoleDir = path.join(folder, 'console');
  execFileSync('npx', ['vite', 'build', '--config', 'apps/console/vite.config.ts', '--outDir', consoleDir, '--logLevel', 'warn'], {
    stdio: 'inherit',
    // Under vitest NODE_ENV is 'test', which would make Vite bundle React's development build.
    env: { ...process.env, NODE_ENV: 'production' },
  });
  const usersFile = path.join(folder, 'users.json');
  viewerToken = await UsersFile.addUser(usersFile, 'viewer', ['read']);
  adminToken = await UsersFile.addUser(usersFile, 'ada', ['admin']);
  service = await startTestService('console', { sides: ['commands', 'queries'], env: { JOBS_TRUST_ACTOR_SUBJECTS: 'true' } });
  http = await startHttpApi({
    config: service.config,
    http: { host: '127.0.0.1', port: 0, usersFile, consoleDir },
    print: () => undefined,
    logger: new ConsoleLogger('HttpApi', { logLevels: ['error', 'warn'] }),
  });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}, 180_000);

afterAll(async () => {
  for (const context of contexts) await context.close().catch(() => undefined);
  await browser?.close();
  await http?.stop();
  await service?.close();
  if (folder) rmSync(folder, { recursive: true, force: true });
});

async function newPage(colorScheme: 'light' | 'dark' = 'light'): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme, baseURL: http.url });
  contexts.push(context);
  return context.newPage();
}

/** The executor's side, over NATS as an executor sends it. */
async function executor(name: string, body: Record<string, unknown>) {
  const reply = await service.command(name, { actor: 'executor-1', ...body });
  expect(reply, `${name} ${JSON.stringify(body)}`).toMatchObject({ ok: true });
  return reply;
}

/** Jobs in four other statuses, as operators and executors over NATS leave them. */
async function moreJobs() {
  const job = async (label: string, kind: string, ...steps: [string, Record<string, unknown>][]) => {
    const { jobId } = await executor('create', { label, kind, actor: 'ada' });
    for (const [name, body] of steps) await executor(name, { jobId, ...body });
  };
  const run: [string, Record<string, unknown>][] = [
    ['start', { actor: 'ada' }],
    ['claim', { executor: 'executor-2' }],
  ];
  await job('Supplier prices', 'import');
  await job('Orders of November', 'export', ['start', { actor: 'ada' }]);
  await job(
    'Customer master data',
    'import',
    ...run,
    ['progress', { executor: 'executor-2', processed: 500, total: 500 }],
    ['finish', { executor: 'executor-2' }],
  );
  await job(
    'Stock levels for the shop',
    'export',
    ...run,
    ['progress', { executor: 'executor-2', processed: 12, total: 200 }],
    ['fail', { executor: 'executor-2', error: { message: 'The file share is not reachable', code: 'SHARE_DOWN' } }],
  );
}

/** A started import job that logged `invoice N read` for N from 1 to `lines`. */
async function runningJobWithLines(label: string, lines: number): Promise<string> {
  const { jobId } = await executor('create', { label, kind: 'import', actor: 'ada' });
  await executor('start', { jobId, actor: 'ada' });
  for (let line = 1; line <= lines; line++) await executor('log', { jobId, level: 'info', message: `invoice ${line} read` });
  return jobId;
}

/** The job's page, logged in as the admin, once it follows the job live. */
async function liveJobPage(jobId: string): Promise<Page> {
  const page = await newPage();
  await page.goto(`/?token=${adminToken}`);
  await page.getByText('Logged in as').waitFor(WAIT);
  await page.goto(`/jobs/${jobId}`);
  await page.locator('.live', { hasText: 'Live: changes appear as they happen' }).waitFor(WAIT);
  return page;
}

const statusOf = (page: Page) => page.locator('.execution-status .status-label').textContent();
const disabled = (page: Page, name: string) => page.getByRole('button', { name, exact: true }).getAttribute('aria-disabled');
/** Set once on load: still there at the end, the page was never reloaded. */
const markLoaded = (page: Page) => page.evaluate(() => Object.assign(globalThis, { loadedOnce: true }));
const neverReloaded = (page: Page) => page.evaluate(() => (globalThis as { loadedOnce?: boolean }).loadedOnce === true);

describe('the console in a browser', () => {
  let jobId: string;
  const rejects = Array.from({ length: 45 }, (_, i) => ({
    line: i + 2,
    reason: `bad email on line ${i + 2}`,
    record: { email: `x${i}@` },
  }));

  it('logs in with ?token= and takes the token out of the address', async () => {
    const page = await newPage();
    await page.goto(`/?token=${adminToken}`);
    await page.getByText('Logged in as').waitFor(WAIT);
    expect(await page.locator('.user').textContent()).toContain('ada');
    expect(page.url()).toBe(http.url);
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByLabel('API token').waitFor(WAIT);
    expect((await page.request.get('/api/v1/session')).status()).toBe(401);
  });

  it('creates a job, follows its executor live in the list and on its page, pauses, pages its rejects and cancels', async () => {
    const list = await newPage();
    await list.goto(`/?token=${adminToken}`);
    await list.getByRole('table').waitFor(WAIT);
    await markLoaded(list);

    const page = await list.context().newPage();
    await page.goto('/jobs/new');
    await page.getByLabel('Label').fill('Contacts of December');
    await page.getByLabel('Definition (JSON)').fill('{"file": ');
    expect(await page.locator('#definition-check').textContent()).toMatch(/not valid JSON/);
    expect(await page.getByRole('button', { name: 'Create the job' }).isDisabled()).toBe(true);
    await page.screenshot({ path: path.join(ARTIFACTS, 'console-new-job.png') });
    await page.getByLabel('Definition (JSON)').fill('{"file": "contacts.csv"}');
    await page.getByRole('button', { name: 'Create the job' }).click();
    await page.waitForURL((url) => url.pathname.startsWith('/jobs/') && url.pathname !== '/jobs/new', WAIT);
    jobId = decodeURIComponent(page.url().split('/').at(-1)!);
    await markLoaded(page);
    await expect.poll(() => statusOf(page), WAIT).toBe('Editing in progress');

    // A new job appears in the list without a reload.
    const row = list.locator(`tr[data-job-id="${jobId}"]`);
    await row.waitFor(WAIT);
    expect(await row.getByRole('link').textContent()).toBe('Contacts of December');

    // The definition can be edited while the job is in editing; the save names the version it changes.
    await page.getByRole('tab', { name: 'Definition' }).click();
    const definition = page.getByLabel(/^Definition \(JSON\)/);
    await expect.poll(() => definition.inputValue(), WAIT).toContain('contacts.csv');
    await definition.fill('{"file": "contacts-v2.csv", "separator": ";"}');
    await page.getByRole('button', { name: 'Save the definition' }).click();
    await page.getByText('Saved as version 2.').waitFor(WAIT);
    await page.getByRole('tab', { name: 'Log' }).click();

    await page.getByRole('button', { name: 'Start', exact: true }).click();
    await expect.poll(() => statusOf(page), WAIT).toBe('Execution in progress');
    expect(await page.locator('.execution').textContent()).toContain('waiting for an executor');
    await expect.poll(() => row.locator('.status-label').textContent(), WAIT).toBe('Execution in progress');
    expect(await row.textContent()).toContain('waiting for an executor');

    await executor('claim', { jobId, executor: 'executor-1' });
    await executor('progress', { jobId, executor: 'executor-1', processed: 30, total: 120 });
    await executor('log', { jobId, executor: 'executor-1', level: 'info', message: 'contacts.csv opened' });
    await executor('reject', { jobId, executor: 'executor-1', records: rejects });
    await executor('log', { jobId, executor: 'executor-1', level: 'warning', message: '45 records rejected so far' });

    const bar = page.getByRole('progressbar');
    await expect.poll(() => bar.getAttribute('aria-valuenow'), WAIT).toBe('25');
    expect(await page.locator('.execution .progress-text').textContent()).toBe('30 of 120 processed (25%)');
    await expect.poll(() => page.getByTestId('rejected').textContent(), WAIT).toBe('45');
    expect(await page.locator('.execution').textContent()).not.toContain('waiting for an executor');
    await page.getByRole('cell', { name: '45 records rejected so far' }).waitFor(WAIT);
    await page.getByRole('cell', { name: 'contacts.csv opened' }).waitFor(WAIT);
    await expect.poll(() => row.getByRole('progressbar').getAttribute('aria-valuenow'), WAIT).toBe('25');
    await expect.poll(() => row.locator('td.number').textContent(), WAIT).toBe('45');

    expect(await disabled(page, 'Start')).toBe('true');
    expect(await disabled(page, 'Pause')).toBe('false');
    await page.getByRole('button', { name: 'Pause', exact: true }).click();
    await expect.poll(() => statusOf(page), WAIT).toBe('Pause in progress');
    expect(await disabled(page, 'Start')).toBe('true');
    expect(await disabled(page, 'Pause')).toBe('true');
    await executor('mark-paused', { jobId, executor: 'executor-1' });
    await expect.poll(() => statusOf(page), WAIT).toBe('Paused');
    expect(await disabled(page, 'Start')).toBe('false');
    // What was sent and what it did, still true now that the job has moved on.
    expect(await page.locator('.notice[role="status"]').textContent()).toBe('Pause sent: the job went to "Pause in progress".');
    await expect.poll(() => row.locator('.status-label').textContent(), WAIT).toBe('Paused');

    // The log filtered by level.
    const levels = page.locator('table.log tbody tr .level');
    await page.getByRole('checkbox', { name: 'warning' }).check();
    await expect.poll(() => levels.allTextContents(), WAIT).toEqual(['warning', 'warning']);
    await page.getByRole('checkbox', { name: 'warning' }).uncheck();
    await expect.poll(async () => new Set(await levels.allTextContents()), WAIT).toEqual(new Set(['info', 'warning']));

    // The rejects, 20 a page, and all of them as CSV.
    await page.getByRole('tab', { name: 'Rejects' }).click();
    const summary = page.locator('.tab-head p');
    await expect.poll(() => summary.textContent(), WAIT).toBe('45 rejected records; showing 1 to 20');
    expect(await page.getByRole('row').nth(1).textContent()).toContain('bad email on line 2');
    await page.getByRole('button', { name: 'Next page' }).click();
    await expect.poll(() => summary.textContent(), WAIT).toBe('45 rejected records; showing 21 to 40');
    await page.getByRole('button', { name: 'Next page' }).click();
    await expect.poll(() => summary.textContent(), WAIT).toBe('45 rejected records; showing 41 to 45');
    expect(await page.getByRole('button', { name: 'Next page' }).isDisabled()).toBe(true);
    await page.screenshot({ path: path.join(ARTIFACTS, 'console-job-rejects.png'), fullPage: true });
    const csvLink = await page.getByRole('link', { name: 'Download CSV' }).getAttribute('href');
    const csv = await page.request.get(csvLink!);
    expect(csv.status()).toBe(200);
    const rows = parse(await csv.text(), { columns: true }) as { line: string; reason: string; record: string }[];
    expect(rows.map((r) => ({ line: Number(r.line), reason: r.reason, record: JSON.parse(r.record) }))).toEqual(rejects);

    // More jobs, in other statuses, for the list to show; each appears without a reload.
    await moreJobs();
    await expect.poll(() => list.locator('tbody tr').count(), WAIT).toBe(5);
    await expect.poll(() => list.locator('.status-choice.status-finished .count').textContent(), WAIT).toBe('1');

    // Filters live in the address: a shared link shows the same jobs.
    const shared = await list.context().newPage();
    await shared.goto('/?status=paused&kind=import');
    await expect.poll(() => shared.locator('caption').textContent(), WAIT).toBe('1 job matching the filters; showing 1');
    expect(await shared.locator('tbody tr .status-label').allTextContents()).toEqual(['Paused']);
    expect(await shared.getByRole('checkbox', { name: /^Paused/ }).isChecked()).toBe(true);
    await shared.getByRole('checkbox', { name: /^Finished 1$/ }).check();
    await shared.waitForURL(/status=paused&status=finished&kind=import/, WAIT);
    await expect.poll(() => shared.locator('tbody tr').count(), WAIT).toBe(2);
    await shared.close();

    await page.getByRole('tab', { name: 'Log' }).click();
    await page.screenshot({ path: path.join(ARTIFACTS, 'console-job-light.png'), fullPage: true });
    await list.screenshot({ path: path.join(ARTIFACTS, 'console-list-light.png'), fullPage: true });
    await page.emulateMedia({ colorScheme: 'dark' });
    await list.emulateMedia({ colorScheme: 'dark' });
    await page.screenshot({ path: path.join(ARTIFACTS, 'console-job-dark.png'), fullPage: true });
    await list.screenshot({ path: path.join(ARTIFACTS, 'console-list-dark.png'), fullPage: true });
    await page.emulateMedia({ colorScheme: 'light' });

    // Cancel asks first; keeping the job changes nothing.
    await page.getByRole('button', { name: 'Cancel', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: 'Cancel this job?' });
    await dialog.waitFor(WAIT);
    expect(await page.locator(':focus').textContent()).toBe('Keep the job');
    await dialog.getByRole('button', { name: 'Keep the job' }).click();
    await dialog.waitFor({ state: 'hidden', ...WAIT });
    expect(await page.locator(':focus').textContent()).toBe('Cancel');
    await page.keyboard.press('Enter');
    await dialog.waitFor(WAIT);
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden', ...WAIT });
    expect(await statusOf(page)).toBe('Paused');
    await page.getByRole('button', { name: 'Cancel', exact: true }).click();
    await dialog.getByRole('button', { name: 'Cancel the job' }).click();
    await expect.poll(() => statusOf(page), WAIT).toBe('Cancel');
    for (const name of ['Start', 'Pause', 'Cancel']) expect(await disabled(page, name)).toBe('true');
    await expect.poll(() => row.locator('.status-label').textContent(), WAIT).toBe('Cancel');

    // History: who did what, authenticated, and the job as it was at a version.
    await page.getByRole('tab', { name: 'History' }).click();
    await page.getByRole('cell', { name: /^Cancelled \(was "Paused"\)/ }).waitFor(WAIT);
    expect(await page.getByRole('row', { name: /Started/ }).textContent()).toContain('ada authenticated');
    await page.getByRole('button', { name: 'State at version 1', exact: true }).click();
    await page.getByRole('heading', { name: 'The job at version 1' }).waitFor(WAIT);
    expect(await page.locator('.then .status-label').textContent()).toBe('Editing in progress');
    await page.screenshot({ path: path.join(ARTIFACTS, 'console-job-history.png'), fullPage: true });

    expect(await neverReloaded(page)).toBe(true);
    expect(await neverReloaded(list)).toBe(true);
  });

  it('says in words that the job moved on when a command comes too late, and shows its new status', async () => {
    const { jobId: late } = await executor('create', { label: 'Invoices of October', kind: 'import', actor: 'ada' });
    await executor('start', { jobId: late, actor: 'ada' });
    const page = await newPage();
    await page.goto(`/?token=${adminToken}`);
    await page.getByText('Logged in as').waitFor(WAIT);
    // This page does not hear of the change that follows: its live feed is cut.
    await page.route('**/api/v1/events**', (route) => route.abort());
    await page.goto(`/jobs/${late}`);
    await expect.poll(() => statusOf(page), WAIT).toBe('Execution in progress');

    await executor('cancel', { jobId: late, actor: 'ada' });
    await page.getByRole('button', { name: 'Pause', exact: true }).click();
    await expect
      .poll(() => page.locator('.execution .error').textContent(), WAIT)
      .toBe('The job moved on: it is now "Cancel", and a job in that status cannot be paused.');
    await expect.poll(() => statusOf(page), WAIT).toBe('Cancel');
    expect(await page.locator('.live').textContent()).toMatch(/interrupted|stopped/);

    // The tabs follow the arrow keys, Home and End.
    await page.getByRole('tab', { name: 'Log' }).focus();
    await page.keyboard.press('ArrowRight');
    expect(await page.locator(':focus').textContent()).toBe('Rejects');
    expect(await page.getByRole('tab', { name: 'Rejects' }).getAttribute('aria-selected')).toBe('true');
    await page.keyboard.press('End');
    expect(await page.getByRole('tab', { name: 'Definition' }).getAttribute('aria-selected')).toBe('true');
    await page.keyboard.press('ArrowRight');
    expect(await page.locator(':focus').textContent()).toBe('Log');
    expect(await page.getByRole('tabpanel').getAttribute('aria-labelledby')).toBe('tab-log');
  });

  it('shows the newest 100 log lines, older ones 100 at a time above them, and new lines below as they come', async () => {
    const long = await runningJobWithLines('Invoices of September', 130);
    const page = await liveJobPage(long);
    const messages = () => page.locator('table.log tbody tr .message').allTextContents();
    const invoices = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `invoice ${from + i} read`);
    // 132 lines with the job's created and started ones: the newest 100, oldest at the top.
    await expect.poll(messages, WAIT).toEqual(invoices(31, 130));
    const older = page.getByRole('button', { name: 'Load 100 older lines' });
    await older.click();
    await expect.poll(async () => (await messages()).length, WAIT).toBe(132);
    const all = await messages();
    expect(all[0]).toMatch(/^Import job created by ada/);
    expect(all.slice(2)).toEqual(invoices(1, 130));
    expect(await older.count()).toBe(0);
    // A new line appears at the bottom without a reload.
    await executor('log', { jobId: long, level: 'warning', message: 'invoice 131 has no total' });
    await expect.poll(async () => (await messages()).at(-1), WAIT).toBe('invoice 131 has no total');
    expect(await messages()).toHaveLength(133);
  });

  it('pages the history 100 events at a time, and adds the events that come after below, past 1,000 of them', async () => {
    const long = await runningJobWithLines('Invoices of August', 1_050);
    const page = await liveJobPage(long);
    await page.getByRole('tab', { name: 'History' }).click();
    const rows = page.locator('table.history tbody tr');
    await expect.poll(() => rows.count(), WAIT).toBe(100);
    const more = page.getByRole('button', { name: 'Load 100 more events' });
    for (let shown = 200; shown < 1_052 + 100; shown += 100) {
      await more.click();
      await expect.poll(() => rows.count(), WAIT).toBe(Math.min(shown, 1_052));
    }
    expect(await more.count()).toBe(0);
    // A new event appears at the bottom without a reload, after all 1,052.
    await executor('log', { jobId: long, level: 'warning', message: 'invoice 1051 has no total' });
    await expect.poll(() => rows.count(), WAIT).toBe(1_053);
    expect(await rows.last().textContent()).toContain('Logged (warning): invoice 1051 has no total');
    expect(await rows.locator('td.number').first().textContent()).toBe('1');
  });

  it('pages the list by cursor, forward and back, in the address', async () => {
    for (let n = 1; n <= 11; n++) await executor('create', { label: `Batch ${n} of the night`, kind: 'export', actor: 'ada' });
    const page = await newPage();
    await page.goto(`/?token=${adminToken}`);
    await page.getByText('Logged in as').waitFor(WAIT);
    await page.goto('/?text=of+the+night&limit=10');
    const labels = () => page.locator('tbody tr a').allTextContents();
    await expect.poll(labels, WAIT).toEqual(Array.from({ length: 10 }, (_, i) => `Batch ${11 - i} of the night`));
    expect(await page.locator('caption').textContent()).toBe('11 jobs matching the filters; showing 10');
    await page.getByRole('button', { name: 'Next page' }).click();
    await expect.poll(labels, WAIT).toEqual(['Batch 1 of the night']);
    expect(new URL(page.url()).searchParams.get('cursor')).not.toBeNull();
    expect(await page.getByRole('button', { name: 'Next page' }).isDisabled()).toBe(true);
    await page.getByRole('button', { name: 'Previous page' }).click();
    await expect.poll(labels, WAIT).toHaveLength(10);
    expect(new URL(page.url()).searchParams.get('cursor')).toBeNull();
    await page.goBack();
    await expect.poll(labels, WAIT).toEqual(['Batch 1 of the night']);
  });

  it('shows a viewer no enabled button, and why', async () => {
    const created = await executor('create', { label: 'Prices for the shop', kind: 'export', actor: 'ada' });
    const page = await newPage();
    await page.goto('/');
    await page.getByLabel('API token').fill(viewerToken);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByText('Logged in as').waitFor(WAIT);
    await page.getByRole('table').waitFor(WAIT);
    expect(await page.getByRole('link', { name: 'New job' }).count()).toBe(0);
    await page.goto('/jobs/no-such-job');
    await page.getByText('There is no such job. It may have been mistyped in the address.').waitFor(WAIT);
    await page.goto(`/jobs/${created.jobId}`);
    await expect.poll(() => statusOf(page), WAIT).toBe('Editing in progress');
    for (const name of ['Start', 'Pause', 'Cancel']) expect(await disabled(page, name)).toBe('true');
    await page.getByRole('button', { name: 'Start', exact: true }).focus();
    const why = page.locator('#why-start');
    await why.waitFor(WAIT);
    await page.screenshot({ path: path.join(ARTIFACTS, 'console-job-viewer.png') });
    expect(await why.textContent()).toBe(
      'You may not change export jobs: that takes the export or admin right, and you have the read right.',
    );
    await page.getByRole('button', { name: 'Start', exact: true }).click({ force: true });
    expect(await statusOf(page)).toBe('Editing in progress');
    await page.getByRole('tab', { name: 'Definition' }).click();
    expect(await page.getByLabel(/^Definition \(JSON\)/).getAttribute('readonly')).not.toBeNull();
  });
});
