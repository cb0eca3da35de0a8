import Foundation
import Reports

/// The risk desk's page at `/`: one self-contained document (the reports' style sheet, inline
/// script and SVG; no CDN, fonts or other requests but this server's API). Moves per asset and vol
/// are asked of `/api/whatif`; who fails is paged, sorted and filtered by the server (a 10⁵-account
/// book sends one page, never the whole book); the fund and the cascade's rounds are shown with a
/// chart in the reports' style; every answer links its JSON. Monte Carlo jobs show their progress
/// from `/api/jobs/{id}/events`. A server with `THRESHER_TOKEN` asks for the token once.
enum ServePage {
    static let html = #"""
    <!DOCTYPE html>
    <html lang="en">
    <head>
    <meta charset="utf-8"/>
    <meta name="viewport" content="width=device-width, initial-scale=1"/>
    <title>Thresher what-ifs</title>
    <style>
    \#(HTMLPage.stylesheet)
    form.moves { display: flex; flex-wrap: wrap; gap: 0.4em 1.2em; align-items: end; }
    form.moves label { display: flex; flex-direction: column; font-size: 0.85em; color: #555; }
    form.moves input[type=number] { width: 6.5em; }
    fieldset { border: 1px solid #ddd; margin: 0.6em 0; }
    th.sortable { cursor: pointer; user-select: none; }
    th.sorted::after { content: " ▾"; }
    th.sorted.asc::after { content: " ▴"; }
    div.cards { display: flex; flex-wrap: wrap; gap: 0.6em; margin: 0.8em 0; }
    div.cards p { margin: 0; padding: 0.4em 0.8em; border-left: 5px solid #bbb; background: #f6f7f8; }
    div.cards p.good { border-color: #2e8b57; background: #eef7f1; }
    div.cards p.bad { border-color: #c62828; background: #fdecea; }
    span.error { color: #b71c1c; font-weight: 600; }
    progress { width: 20em; }
    </style>
    </head>
    <body>
    <h1>Thresher what-ifs — <span id="scenario">…</span></h1>
    <p class="meta" id="meta"></p>
    <p class="meta" id="tokenbox" hidden>This server needs its bearer token: <input id="token" type="password" size="30"/> <button id="tokenset" type="button">use</button></p>
    <section>
    <h2>Move</h2>
    <p class="note">Relative moves in percent, as <code>thresher stress --shock ASSET=MOVE --shock-vol ASSET=MOVE</code> (−20 → BTC=-0.2). The book is revalued exactly; who fails: equity after &lt; maintenance (liquidated) or &lt; 0 (bankrupt).</p>
    <form class="moves" id="moves"></form>
    <p><label><input type="checkbox" id="cascade"/> run the liquidation cascade of the move</label>
    <button id="ask" type="button">What if?</button> <span id="status"></span></p>
    </section>
    <section id="answer" hidden>
    <h2>Answer</h2>
    <div class="cards" id="cards"></div>
    <p class="note" id="links"></p>
    <h2>Who fails</h2>
    <p>
    <label>show <select id="filter"><option value="failing">failing</option><option value="liquidated">liquidated</option><option value="bankrupt">bankrupt</option><option value="all">all accounts</option></select></label>
    <label>account id contains <input id="search" size="14"/></label>
    <button id="prev" type="button">◀</button> <span id="range"></span> <button id="next" type="button">▶</button>
    </p>
    <div class="table"><table id="accounts">
    <thead><tr>
    <th class="sortable" data-sort="id">account</th><th class="sortable" data-sort="loss">loss</th><th class="sortable" data-sort="equity_after">equity after</th>
    <th class="sortable" data-sort="maintenance">maintenance</th><th class="sortable" data-sort="shortfall">shortfall</th><th>liquidated</th><th>bankrupt</th>
    </tr></thead>
    <tbody></tbody>
    </table></div>
    <div id="cascadebox" hidden>
    <h2>Cascade</h2>
    <p class="note" id="cascadesummary"></p>
    <div id="cascadechart"></div>
    <div class="table"><table id="rounds"><thead><tr><th>round</th><th>liquidated</th><th>notional</th><th>deficit</th><th>fund paid</th><th>shortfall</th><th>fund after</th></tr></thead><tbody></tbody></table></div>
    </div>
    </section>
    <section>
    <h2>Monte Carlo jobs</h2>
    <p class="note">run, calibrate or evaluate with the moves above and the scenario's settings (paths and seed as given); the result is the command's <code>--json</code> document.</p>
    <p><select id="jobcommand"><option>run</option><option>calibrate</option><option>evaluate</option></select>
    <label>paths <input id="jobpaths" type="number" min="1" placeholder="scenario's"/></label>
    <label>seed <input id="jobseed" type="number" min="0" placeholder="scenario's"/></label>
    <button id="jobstart" type="button">Start</button> <button id="jobcancel" type="button" disabled>Cancel</button>
    <progress id="jobprogress" max="1" value="0"></progress> <span id="jobstatus"></span></p>
    </section>
    <script>
    'use strict';
    const $ = id => document.getElementById(id);
    let token = sessionStorage.getItem('thresher-token') || '';
    let scenario = null, last = null, page = { filter: 'failing', search: '', sort: 'risk', order: 'asc', offset: 0, limit: 100 }, job = null;
    const usd = x => x === null || x === undefined ? '' : Math.round(x).toLocaleString('en-US') + ' USD';
    const esc = s => String(s).replace(/[&<>"]/g, c => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
    function withToken(url) { return token ? url + (url.includes('?') ? '&' : '?') + 'access_token=' + encodeURIComponent(token) : url; }
    async function api(method, url, body) {
      const headers = { 'Content-Type': 'application/json' };
      if (token) headers.Authorization = 'Bearer ' + token;
      const response = await fetch(url, { method, headers, body: body ? JSON.stringify(body) : undefined });
      const json = await response.json();
      if (response.status === 401) { $('tokenbox').hidden = false; }
      if (!response.ok) throw new Error(json.error ? json.error.message : response.statusText);
      return json;
    }
    function moves() {
      const shock = [], vol = [];
      document.querySelectorAll('#moves input').forEach(input => {
        if (input.value.trim() === '') return;
        const move = Number(input.value) / 100;
        (input.dataset.kind === 'spot' ? shock : vol).push(input.dataset.asset + '=' + move);
      });
      return { shock, shock_vol: vol };
    }
    async function load() {
      try {
        scenario = await api('GET', '/api/scenario');
      } catch (e) { $('status').innerHTML = '<span class="error">' + esc(e.message) + '</span>'; return; }
      $('scenario').textContent = scenario.scenario;
      $('meta').textContent = scenario.accounts.toLocaleString('en-US') + ' accounts, ' + scenario.positions.toLocaleString('en-US') + ' positions; loaded ' + scenario.loaded_at +
        ' in ' + scenario.load_seconds.toFixed(2) + ' s; who fails from the ' + (scenario.maintenance_source || 'equity only (no maintenance known)') +
        (scenario.insurance_fund !== null ? '; insurance fund ' + usd(scenario.insurance_fund) : '');
      $('cascade').checked = scenario.cascade;
      const ids = scenario.assets.map(a => a.id).concat(['*']).concat(scenario.stablecoins.map(s => s.id));
      $('moves').innerHTML = ids.map(id => {
        const asset = scenario.assets.find(a => a.id === id);
        const spot = '<label>' + esc(id) + (asset ? ' (' + asset.spot + ')' : id === '*' ? ' (all others)' : ' (de-peg)') +
          ' spot %<input type="number" step="any" data-kind="spot" data-asset="' + esc(id) + '"/></label>';
        const vol = scenario.stablecoins.some(s => s.id === id) ? '' : '<label>' + esc(id) + ' vol %<input type="number" step="any" data-kind="vol" data-asset="' + esc(id) + '"/></label>';
        return spot + vol;
      }).join('');
    }
    async function ask(resetPage) {
      if (resetPage) page.offset = 0;
      const body = Object.assign(moves(), { cascade: $('cascade').checked }, page);
      $('status').textContent = 'asking…';
      try {
        last = await api('POST', '/api/whatif', body);
      } catch (e) { $('status').innerHTML = '<span class="error">' + esc(e.message) + '</span>'; return; }
      $('status').textContent = 'answered in ' + (last.seconds * 1000).toFixed(1) + ' ms (server)';
      show(last);
    }
    function card(text, verdict) { return '<p class="' + (verdict || '') + '">' + text + '</p>'; }
    function show(a) {
      $('answer').hidden = false;
      const s = a.stress;
      let cards = card('<b>' + esc(s.name) + '</b>') + card('book ' + (s.book_loss >= 0 ? 'loss ' : 'gain ') + usd(Math.abs(s.book_loss))) +
        card('liquidated: <b id="liquidated">' + (s.accounts_liquidated === null ? 'n/a' : s.accounts_liquidated) + '</b>', s.accounts_liquidated ? 'bad' : 'good') +
        card('bankrupt: <b id="bankrupt">' + s.accounts_bankrupt + '</b>', s.accounts_bankrupt ? 'bad' : 'good') +
        card('total shortfall: <b>' + usd(s.total_shortfall) + '</b>', s.total_shortfall > 0 ? 'bad' : 'good');
      if (a.fund) cards += card('fund ' + usd(a.fund.balance) + ': ' + (a.fund.holds ? 'holds, ' + usd(a.fund.left) + ' left' : 'does not hold, short ' + usd(-a.fund.left)), a.fund.holds ? 'good' : 'bad');
      $('cards').innerHTML = cards;
      $('links').innerHTML = 'JSON: <a id="selflink" href="' + esc(withToken(a.links.self)) + '">this answer</a> · <a id="reportlink" href="' + esc(withToken(a.links.report)) +
        '">the full stress report</a> (as <code>thresher stress --json</code>)';
      const acc = a.accounts;
      $('range').textContent = acc.matching === 0 ? 'no accounts of ' + acc.total.toLocaleString('en-US') :
        (acc.offset + 1).toLocaleString('en-US') + '–' + (acc.offset + acc.rows.length).toLocaleString('en-US') + ' of ' + acc.matching.toLocaleString('en-US') + ' (' + acc.total.toLocaleString('en-US') + ' accounts)';
      $('prev').disabled = acc.offset === 0;
      $('next').disabled = acc.offset + acc.rows.length >= acc.matching;
      document.querySelectorAll('#accounts th.sortable').forEach(th => {
        th.classList.toggle('sorted', th.dataset.sort === acc.sort);
        th.classList.toggle('asc', acc.order === 'asc');
      });
      $('accounts').tBodies[0].innerHTML = acc.rows.map(r =>
        '<tr><td>' + esc(r.id) + '</td><td class="num">' + usd(r.loss) + '</td><td class="num">' + usd(r.equity_after) + '</td><td class="num">' + usd(r.maintenance) +
        '</td><td class="num' + (r.shortfall > 0 ? ' bad' : '') + '">' + usd(r.shortfall) + '</td><td' + (r.liquidated ? ' class="bad"' : '') + '>' + (r.liquidated === null ? '' : r.liquidated ? 'yes' : 'no') +
        '</td><td' + (r.bankrupt ? ' class="bad"' : '') + '>' + (r.bankrupt ? 'yes' : 'no') + '</td></tr>').join('');
      showCascade(a.cascade);
    }
    function showCascade(c) {
      $('cascadebox').hidden = !c;
      if (!c) return;
      const s = c.stresses[0];
      $('cascadesummary').textContent = s.summary;
      $('rounds').tBodies[0].innerHTML = s.rounds.map(r => '<tr><td>' + r.round + '</td><td class="num">' + r.accounts_liquidated + '</td><td class="num">' + usd(r.liquidated_notional) +
        '</td><td class="num">' + usd(r.deficit) + '</td><td class="num">' + usd(r.fund_paid) + '</td><td class="num">' + usd(r.shortfall) + '</td><td class="num">' + usd(r.fund_balance) + '</td></tr>').join('');
      const points = [s.round_0.fund_balance].concat(s.rounds.map(r => r.fund_balance));
      $('cascadechart').innerHTML = chart(points, 'Insurance fund by round', 'round', 'USD');
    }
    // A line chart in the reports' style: plot area, axes, ticks, one polyline.
    function chart(values, title, xLabel, yLabel) {
      const w = 640, h = 260, l = 90, r = 20, t = 30, b = 40, pw = w - l - r, ph = h - t - b;
      const lo = Math.min(0, ...values), hi = Math.max(...values, lo + 1);
      const x = k => l + (values.length > 1 ? k * pw / (values.length - 1) : pw / 2), y = v => t + ph - (v - lo) * ph / (hi - lo);
      const ticks = [0, 0.5, 1].map(f => lo + f * (hi - lo));
      return '<svg xmlns="http://www.w3.org/2000/svg" width="' + w + '" height="' + h + '" viewBox="0 0 ' + w + ' ' + h + '" data-plot="' + [l, t, l + pw, t + ph].join(' ') + '" role="img">' +
        '<title>' + esc(title) + '</title><text x="' + l + '" y="18" font-size="13" font-weight="600">' + esc(title) + '</text>' +
        '<line x1="' + l + '" y1="' + (t + ph) + '" x2="' + (l + pw) + '" y2="' + (t + ph) + '" stroke="#888"/><line x1="' + l + '" y1="' + t + '" x2="' + l + '" y2="' + (t + ph) + '" stroke="#888"/>' +
        ticks.map(v => '<text x="' + (l - 6) + '" y="' + (y(v) + 4) + '" font-size="11" text-anchor="end">' + Math.round(v).toLocaleString('en-US') + '</text>').join('') +
        values.map((v, k) => '<text x="' + x(k) + '" y="' + (t + ph + 16) + '" font-size="11" text-anchor="middle">' + k + '</text>').join('') +
        '<text x="' + (l + pw / 2) + '" y="' + (h - 4) + '" font-size="11" text-anchor="middle">' + esc(xLabel) + '</text>' +
        '<polyline fill="none" stroke="#1f77b4" stroke-width="2" points="' + values.map((v, k) => x(k) + ',' + y(v)).join(' ') + '"/>' +
        values.map((v, k) => '<circle cx="' + x(k) + '" cy="' + y(v) + '" r="3" fill="#1f77b4"/>').join('') + '</svg>';
    }
    async function startJob() {
      const body = Object.assign(moves(), { command: $('jobcommand').value });
      if ($('jobpaths').value) body.paths = Number($('jobpaths').value);
      if ($('jobseed').value) body.seed = $('jobseed').value;
      try { job = await api('POST', '/api/jobs', body); } catch (e) { $('jobstatus').innerHTML = '<span class="error">' + esc(e.message) + '</span>'; return; }
      $('jobcancel').disabled = false;
      const events = new EventSource(withToken(job.links.events));
      const update = e => {
        const j = JSON.parse(e.data);
        $('jobprogress').value = j.progress.fraction;
        $('jobstatus').innerHTML = esc(j.command + ' ' + j.id + ': ' + j.state) + (j.state === 'done' ? ' — <a href="' + esc(withToken(j.links.result)) + '">result JSON</a>' : '') +
          (j.error ? ' <span class="error">' + esc(j.error.error.message) + '</span>' : '');
        if (e.type === 'end') { events.close(); $('jobcancel').disabled = true; }
      };
      events.addEventListener('progress', update);
      events.addEventListener('end', update);
    }
    $('ask').addEventListener('click', () => ask(true));
    $('moves').addEventListener('submit', e => { e.preventDefault(); ask(true); });
    $('moves').addEventListener('keydown', e => { if (e.key === 'Enter') { e.preventDefault(); ask(true); } });
    $('filter').addEventListener('change', () => { page.filter = $('filter').value; ask(true); });
    let searchTimer = null;
    $('search').addEventListener('input', () => { clearTimeout(searchTimer); searchTimer = setTimeout(() => { page.search = $('search').value; ask(true); }, 250); });
    $('prev').addEventListener('click', () => { page.offset = Math.max(0, page.offset - page.limit); ask(false); });
    $('next').addEventListener('click', () => { page.offset += page.limit; ask(false); });
    document.querySelectorAll('#accounts th.sortable').forEach(th => th.addEventListener('click', () => {
      page.order = page.sort === th.dataset.sort && page.order === 'desc' ? 'asc' : 'desc';
      page.sort = th.dataset.sort;
      ask(true);
    }));
    $('tokenset').addEventListener('click', () => { token = $('token').value; sessionStorage.setItem('thresher-token', token); $('tokenbox').hidden = true; load(); });
    $('jobstart').addEventListener('click', startJob);
    $('jobcancel').addEventListener('click', async () => { if (job) { try { await api('DELETE', '/api/jobs/' + job.id); } catch (e) {} } });
    load();
    </script>
    </body>
    </html>

    """#
}
