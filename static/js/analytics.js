// Play reporting: a "play" when a video or audio first starts, then "progress" at 25/50/75/100 %
// of its length, each once per page. Sent with navigator.sendBeacon (survives leaving the page),
// the CSRF token as a form field. Anonymous pages carry no token, so one is fetched first.
(function () {
  'use strict'

  const endpoint = document.querySelector('[data-plays-endpoint]')
  if (!endpoint) return
  const url = endpoint.dataset.playsEndpoint
  const tokenUrl = endpoint.dataset.tokenEndpoint
  const asset = endpoint.dataset.asset
  let token = null

  function cookieToken () {
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/)
    return match ? decodeURIComponent(match[1]) : null
  }

  async function csrf () {
    if (token) return token
    token = cookieToken()
    if (!token) {
      const response = await fetch(tokenUrl, { credentials: 'same-origin' })
      token = (await response.json()).token
    }
    return token
  }

  async function report (event, quartile) {
    const body = new FormData()
    body.append('csrfmiddlewaretoken', await csrf())
    body.append('asset', asset)
    body.append('event', event)
    if (quartile) body.append('quartile', String(quartile))
    if (!(navigator.sendBeacon && navigator.sendBeacon(url, body))) {
      fetch(url, { method: 'POST', body, credentials: 'same-origin', keepalive: true }).catch(() => {})
    }
  }

  for (const media of document.querySelectorAll('.player video, .player audio')) {
    const sent = new Set()
    media.addEventListener('play', () => {
      if (!sent.has('play')) { sent.add('play'); report('play') }
    })
    media.addEventListener('timeupdate', () => {
      if (!media.duration || !isFinite(media.duration)) return
      const done = (media.currentTime / media.duration) * 100
      for (const quartile of [25, 50, 75]) {
        if (done >= quartile && !sent.has(quartile)) { sent.add(quartile); report('progress', quartile) }
      }
    })
    media.addEventListener('ended', () => {
      if (!sent.has(100)) { sent.add(100); report('progress', 100) }
    })
  }
})()
