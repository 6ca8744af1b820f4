/* The studio's upload page: Uppy's Dashboard to pick files and show progress, and a small uploader
 * plugin of ours that speaks the portal's upload API. File bytes go from the browser straight to
 * S3; Django only signs (start, part URLs) and checks what arrived (finalize).
 *
 * Why our own uploader and not Uppy's AwsS3 plugin: since Uppy 6 that plugin only asks for a
 * presigned URL per raw S3 request (PUT object, create / list / complete multipart) and makes
 * those requests itself. Our server does those steps: it creates the multipart upload when it
 * starts a session, it signs a POST policy for small files (which caps the size; a presigned PUT
 * cannot) and it completes multipart uploads itself at finalize, from the parts S3 holds.
 * The hooks that matched this (getUploadParameters, createMultipartUpload, signPart, ...) were
 * removed in 6.0. So Uppy's core and UI stay, and only the uploader is ours (README, design notes).
 */
(() => {
  'use strict'

  const config = JSON.parse(document.getElementById('upload-config').textContent)
  const FILES_AT_ONCE = 3 // files uploading in parallel
  const PARTS_AT_ONCE = 3 // parts of one large file in flight at once
  // Part URLs expire with the server's policy (15 minutes by default): ask for a few at a time as
  // the upload reaches them, never for all of a 4 GB file at the start.
  const SIGN_BATCH = 10

  /** An answer the editor should read as it is (the server's own words). */
  class Refused extends Error {
    constructor (message, status) {
      super(message)
      this.name = 'Refused'
      this.status = status
    }
  }

  const sessionUrl = (template, session) => template.replace(config.placeholder, encodeURIComponent(session))

  /** A JSON call to our API, with the CSRF header. Errors carry the server's message. */
  async function api (url, { method = 'GET', body, signal } = {}) {
    const headers = { Accept: 'application/json', 'X-CSRFToken': config.csrfToken }
    if (body !== undefined) headers['Content-Type'] = 'application/json'
    let response
    try {
      response = await fetch(url, {
        method, headers, signal, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body)
      })
    } catch (error) {
      if (signal?.aborted) throw error
      throw new Refused('The portal could not be reached. Check your connection, then retry.', 0)
    }
    // A signed-out editor is redirected to the login page: HTML, not JSON.
    if (!(response.headers.get('Content-Type') || '').includes('application/json')) {
      throw new Refused('You are no longer signed in. Sign in again in another tab, then retry.', response.status)
    }
    const data = await response.json()
    if (!response.ok) throw new Refused(data.error || `The portal answered ${response.status}.`, response.status)
    return data
  }

  /** XMLHttpRequest, because fetch cannot report upload progress. Resolves with the finished request. */
  function send ({ method, url, body, signal, onProgress }) {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest()
      xhr.open(method, url)
      xhr.upload.addEventListener('progress', (event) => onProgress(event.loaded))
      xhr.addEventListener('load', () => resolve(xhr))
      xhr.addEventListener('error', () => reject(new Refused('The connection to storage failed. Retry to continue.', 0)))
      xhr.addEventListener('abort', () => reject(new DOMException('Upload cancelled', 'AbortError')))
      signal.addEventListener('abort', () => xhr.abort(), { once: true })
      xhr.send(body)
    })
  }

  /** S3 answers errors as XML: keep its message, which names the limit or the expiry. */
  function storageRefusal (name, xhr) {
    const xml = xhr.responseXML
    const code = xml?.querySelector('Code')?.textContent || `HTTP ${xhr.status}`
    const message = xml?.querySelector('Message')?.textContent || 'no reason given'
    return new Refused(`Storage refused “${name}”: ${message} (${code}).`, xhr.status)
  }

  /** Run task(item) for every item, at most `limit` at a time; rejects with the first failure. */
  async function pool (items, limit, task) {
    const queue = [...items]
    let failure = null
    const worker = async () => {
      while (queue.length && !failure) {
        const item = queue.shift()
        try { await task(item) } catch (error) { failure = failure || error }
      }
    }
    await Promise.all(Array.from({ length: Math.min(limit, queue.length) }, worker))
    if (failure) throw failure
  }

  /** Part URLs, signed in small batches on demand and shared by the parts in flight. */
  function partSigner (partsUrl, todo, signal) {
    const urls = new Map() // part number → Promise of its URL
    return {
      url (number) {
        if (!urls.has(number)) {
          const from = todo.indexOf(number)
          const batch = todo.slice(from, from + SIGN_BATCH).filter((n) => n === number || !urls.has(n))
          const signed = api(partsUrl, { method: 'POST', body: { numbers: batch }, signal }).then((data) => data.urls)
          for (const n of batch) {
            const one = signed.then((all) => all[String(n)])
            one.catch(() => {}) // whoever awaits it sees the error; the others must not log it as unhandled
            urls.set(n, one)
          }
        }
        return urls.get(number)
      },
      forget (number) { urls.delete(number) }
    }
  }

  /**
   * The uploader. Per file: start a session (POST /studio/uploads/), send the bytes to S3 (one form
   * POST, or presigned part PUTs that resume from what S3 holds), then finalize, which checks the
   * file and moves the asset on. What a retry must redo depends on how far the last try got:
   *   no ticket, or "spent" → start again (on the same asset, if there is one)
   *   "new" multipart       → list the parts S3 holds and send only the rest
   *   "sent"                → the bytes are in S3: only finalize again
   */
  class PortalUploader extends Uppy.BasePlugin {
    constructor (uppy, opts) {
      super(uppy, opts)
      this.id = (opts && opts.id) || 'PortalUploader'
      this.type = 'uploader'
      this.tickets = new Map() // file id → the server's ticket, plus our `state`
      this.controllers = new Map() // file id → AbortController for its requests
    }

    install () {
      this.uppy.addUploader(this.upload)
      this.uppy.on('file-removed', this.cancel)
      this.uppy.on('cancel-all', this.cancelAll)
    }

    uninstall () {
      this.uppy.removeUploader(this.upload)
      this.uppy.off('file-removed', this.cancel)
      this.uppy.off('cancel-all', this.cancelAll)
      this.cancelAll()
    }

    // Removing a file stops its requests and tells the server, which frees the storage and marks
    // the asset at once (keepalive: the request survives the page being closed).
    cancel = (file) => {
      this.controllers.get(file.id)?.abort()
      const ticket = this.tickets.get(file.id)
      this.tickets.delete(file.id)
      if (ticket && ticket.state !== 'done') {
        fetch(sessionUrl(config.cancelUrl, ticket.session), {
          method: 'POST', credentials: 'same-origin', keepalive: true,
          headers: { Accept: 'application/json', 'X-CSRFToken': config.csrfToken }
        }).catch(() => {}) // best effort: the hourly cleanup covers a lost request
      }
    }
    cancelAll = () => { for (const controller of this.controllers.values()) controller.abort() }

    upload = async (fileIDs) => {
      const files = this.uppy.getFilesByIds(fileIDs).filter((file) => !file.error && !file.progress.uploadComplete)
      this.uppy.emit('upload-start', files)
      await pool(files, FILES_AT_ONCE, (file) => this.uploadOne(file))
    }

    async uploadOne (file) {
      const controller = new AbortController()
      const { signal } = controller
      this.controllers.set(file.id, controller)
      let ticket = this.tickets.get(file.id)
      try {
        if (!this.uppy.getFile(file.id)) return // removed while it waited for its turn
        if (!ticket || ticket.state === 'spent') ticket = await this.start(file, ticket, signal)
        if (ticket.state === 'new') await this.transfer(file, ticket, signal)
        const result = await this.finalize(file, ticket, signal)
        this.tickets.delete(file.id)
        const current = this.uppy.getFile(file.id)
        if (current) this.uppy.emit('upload-success', current, { status: 200, body: result, uploadURL: result.editUrl })
      } catch (error) {
        if (signal.aborted) return // the editor removed the file: nothing to report
        this.uppy.emit('upload-error', this.uppy.getFile(file.id), error)
      } finally {
        this.controllers.delete(file.id)
      }
    }

    async start (file, previous, signal) {
      const asset = previous ? previous.asset : config.asset
      const ticket = await api(config.startUrl, {
        method: 'POST', signal, body: { filename: file.name, size: file.size, type: file.type || '', asset }
      })
      ticket.state = 'new'
      this.tickets.set(file.id, ticket)
      this.uppy.setFileMeta(file.id, { session: ticket.session, asset: ticket.asset })
      return ticket
    }

    async transfer (file, ticket, signal) {
      try {
        await (ticket.method === 'multipart' ? this.sendParts(file, ticket, signal) : this.sendForm(file, ticket, signal))
      } catch (error) {
        // A form POST cannot resume, and neither can a session the server no longer waits on
        // (expired, cleaned up: 400 / 404): the next try starts a new session on the same asset.
        if (ticket.method === 'POST' || error.status === 400 || error.status === 404) ticket.state = 'spent'
        throw error
      }
      ticket.state = 'sent'
    }

    progress (file, bytesUploaded) {
      const current = this.uppy.getFile(file.id)
      if (!current) return
      this.uppy.emit('upload-progress', current, {
        uploadStarted: current.progress.uploadStarted || Date.now(),
        bytesUploaded: Math.min(bytesUploaded, file.size),
        bytesTotal: file.size
      })
    }

    /** One form POST. S3 wants the policy's fields first and the file last. */
    async sendForm (file, ticket, signal) {
      const form = new FormData()
      for (const [name, value] of Object.entries(ticket.fields)) form.append(name, value)
      form.append('file', file.data)
      const xhr = await send({
        method: 'POST', url: ticket.url, body: form, signal, onProgress: (loaded) => this.progress(file, loaded)
      })
      if (xhr.status >= 300) throw storageRefusal(file.name, xhr)
      this.progress(file, file.size)
    }

    /** Presigned part PUTs, skipping the parts S3 already holds (a resumed upload). */
    async sendParts (file, ticket, signal) {
      const partsUrl = sessionUrl(config.partsUrl, ticket.session)
      const { parts: stored } = await api(partsUrl, { signal })
      const sent = new Map(stored.map((part) => [part.PartNumber, part.Size])) // part number → bytes sent
      const report = () => this.progress(file, [...sent.values()].reduce((a, b) => a + b, 0))
      report()
      const todo = []
      for (let n = 1; n <= ticket.parts; n++) if (!sent.has(n)) todo.push(n)
      const signer = partSigner(partsUrl, todo, signal)

      await pool(todo, PARTS_AT_ONCE, async (number) => {
        const from = (number - 1) * ticket.partSize
        const body = file.data.slice(from, Math.min(from + ticket.partSize, file.size))
        const put = async () => send({
          method: 'PUT',
          url: await signer.url(number),
          body,
          signal,
          onProgress: (loaded) => { sent.set(number, loaded); report() }
        })
        let xhr = await put()
        if (xhr.status === 403) { // the URL expired while earlier parts were uploading: sign again, once
          signer.forget(number)
          xhr = await put()
        }
        if (xhr.status >= 300) throw storageRefusal(file.name, xhr)
        // No need to keep S3's ETag: finalize completes the upload from the part list S3 holds.
        sent.set(number, body.size)
        report()
      })
    }

    async finalize (file, ticket, signal) {
      try {
        return await api(sessionUrl(config.finalizeUrl, ticket.session), { method: 'POST', signal })
      } catch (error) {
        // 422: the file was refused (wrong type, cut short), 404: the session is gone; start over next time.
        // 400 on a multipart upload: parts are missing; list them and send the rest next time.
        // Anything else (storage or network down): the bytes are safe in S3, so a retry only finalizes.
        if (error.status === 422 || error.status === 404) ticket.state = 'spent'
        else if (error.status === 400) ticket.state = ticket.method === 'multipart' ? 'new' : 'spent'
        throw error
      }
    }
  }

  /** The per-file results under the Dashboard: a live region, so screen readers hear each outcome. */
  function resultsList () {
    const list = document.getElementById('upload-results')
    const heading = document.getElementById('results-heading')
    const rows = new Map() // file id → its <li>

    function row (file) {
      let item = rows.get(file.id)
      if (!item) {
        item = document.createElement('li')
        item.className = 'upload-result'
        const name = document.createElement('span')
        name.className = 'upload-name'
        name.textContent = file.name // textContent: a file name is data, never markup
        const bar = document.createElement('progress')
        bar.max = 100
        bar.value = 0
        bar.setAttribute('aria-label', `Progress of ${file.name}`)
        const status = document.createElement('span')
        status.className = 'upload-status'
        item.append(name, bar, status)
        list.append(item)
        rows.set(file.id, item)
        heading.hidden = false
      }
      return item
    }

    function show (file, state, text, link) {
      const item = row(file)
      item.dataset.state = state
      const status = item.querySelector('.upload-status')
      status.textContent = text
      if (link) {
        const a = document.createElement('a')
        a.href = link
        a.textContent = 'Edit details'
        const hidden = document.createElement('span')
        hidden.className = 'visually-hidden'
        hidden.textContent = ` of ${file.name}`
        a.append(hidden)
        status.append(' ', a)
      }
    }

    return {
      started (file) {
        row(file).querySelector('progress').value = 0
        show(file, 'uploading', 'Uploading…')
      },
      progressed (file, progress) {
        const percent = progress.bytesTotal ? Math.round((progress.bytesUploaded / progress.bytesTotal) * 100) : 0
        row(file).querySelector('progress').value = percent
      },
      succeeded (file, body) {
        row(file).querySelector('progress').value = 100
        const status = body.assetStatus === 'processing' ? 'Uploaded — processing.' : `Uploaded — ${body.assetStatus}.`
        show(file, 'done', status, body.editUrl)
      },
      failed (file, error) { show(file, 'failed', error.message) },
      removed (file) {
        if (rows.get(file.id)?.dataset.state === 'uploading') show(file, 'cancelled', 'Cancelled.')
      }
    }
  }

  const uppy = new Uppy.Uppy({
    autoProceed: false,
    // Types and sizes are the server's to judge (one set of rules, one set of messages); only the
    // edit page's "upload a file" asks for exactly one.
    restrictions: { maxNumberOfFiles: config.asset ? 1 : null }
  })
  uppy.use(Uppy.Dashboard, {
    inline: true,
    target: '#uploader',
    width: '100%',
    height: 380,
    proudlyDisplayPoweredByUppy: false,
    hidePauseResumeButton: true, // our uploader resumes on retry, it does not pause
    note: 'Video, audio, images and documents. The limits for each kind are listed above.'
  })
  uppy.use(PortalUploader)

  const results = resultsList()
  uppy.on('upload-start', (files) => files.forEach((file) => results.started(file)))
  uppy.on('upload-progress', (file, progress) => { if (file) results.progressed(file, progress) })
  uppy.on('upload-success', (file, response) => { if (file) results.succeeded(file, response.body) })
  uppy.on('upload-error', (file, error) => { if (file) results.failed(file, error) })
  uppy.on('file-removed', (file) => results.removed(file))
})()
