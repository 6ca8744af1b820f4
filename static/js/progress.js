/* The progress panel's fallback: when its live stream (SSE) fails or ends before the job has
 * finished, poll the panel from the database instead.
 *
 * The htmx SSE extension would keep reconnecting on its own, but an error here usually means the
 * stream cannot work (a proxy that buffers or cuts long responses, the stream process down, a
 * browser out of connections): polling every 2 s is slower but always works. The panel's
 * data-poll-url answers with the same panel in polling mode (hx-trigger="every 2s"), which stops
 * by itself once the job is final. Swapping the panel out closes its EventSource (htmx cleanup).
 */
(() => {
  'use strict'

  document.addEventListener('htmx:sseError', (event) => {
    const panel = event.target.closest('[data-poll-url]')
    if (!panel || panel.dataset.fallback === 'on') return
    panel.dataset.fallback = 'on'
    // Stop both reconnect loops: the browser's (close) and the extension's, which re-reads
    // sse-connect on a timer after a closed source, even from a panel already swapped out.
    panel.removeAttribute('sse-connect')
    const source = event.detail && event.detail.source
    if (source) source.close()
    htmx.ajax('GET', panel.dataset.pollUrl, { target: panel, swap: 'outerHTML' })
  })
})()
