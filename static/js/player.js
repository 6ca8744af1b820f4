// Video pages: play HLS renditions (hls.js where the browser has no native HLS), and show the
// storyboard's thumbnail above the controls while the pointer moves along the bottom of the video.
(function () {
  'use strict'

  function attachHls (video) {
    const source = video.dataset.hls
    if (!source) return
    if (video.canPlayType('application/vnd.apple.mpegurl')) { // Safari plays HLS natively
      video.src = source
    } else if (window.Hls && window.Hls.isSupported()) {
      const hls = new window.Hls({ capLevelToPlayerSize: true })
      hls.loadSource(source)
      hls.attachMedia(video)
      // If the renditions cannot be played, the original in `src` still can: fall back to it.
      hls.on(window.Hls.Events.ERROR, (event, data) => {
        if (data.fatal) { hls.destroy(); video.src = video.getAttribute('src') }
      })
    }
  }

  function parseVtt (text, base) {
    const cues = []
    const blocks = text.replace(/\r/g, '').split('\n\n')
    const seconds = (t) => t.split(':').reduce((total, part) => total * 60 + parseFloat(part), 0)
    for (const block of blocks) {
      const lines = block.trim().split('\n')
      const timing = lines.findIndex((line) => line.includes('-->'))
      if (timing < 0 || !lines[timing + 1]) continue
      const [start, end] = lines[timing].split('-->').map((t) => seconds(t.trim().split(' ')[0]))
      const [file, hash] = lines[timing + 1].trim().split('#xywh=')
      if (!hash) continue
      const [x, y, w, h] = hash.split(',').map(Number)
      cues.push({ start, end, url: new URL(file, base).href, x, y, w, h })
    }
    return cues
  }

  async function attachStoryboard (video) {
    const source = video.dataset.storyboard
    const preview = video.parentElement.querySelector('.storyboard-preview')
    if (!source || !preview) return
    let cues = []
    try {
      const response = await fetch(source)
      if (!response.ok) return
      cues = parseVtt(await response.text(), response.url)
    } catch (error) { return } // no storyboard: the plain controls still work
    if (!cues.length) return
    video.addEventListener('mousemove', (event) => {
      const box = video.getBoundingClientRect()
      const nearControls = event.clientY > box.bottom - 48
      if (!nearControls || !video.duration) { preview.hidden = true; return }
      const time = ((event.clientX - box.left) / box.width) * video.duration
      const cue = cues.find((c) => time >= c.start && time < c.end) || cues[cues.length - 1]
      Object.assign(preview.style, {
        width: cue.w + 'px',
        height: cue.h + 'px',
        backgroundImage: `url("${cue.url}")`,
        backgroundPosition: `-${cue.x}px -${cue.y}px`,
        left: Math.min(Math.max(event.clientX - box.left - cue.w / 2, 0), box.width - cue.w) + 'px'
      })
      preview.hidden = false
    })
    video.addEventListener('mouseleave', () => { preview.hidden = true })
  }

  function attachAll (root) {
    root.querySelectorAll('video[data-hls], video[data-storyboard]').forEach((video) => {
      if (video.dataset.playerReady) return
      video.dataset.playerReady = '1'
      attachHls(video)
      attachStoryboard(video)
    })
  }

  attachAll(document)
  // The studio swaps the player in with htmx when processing finishes: set that one up too.
  document.addEventListener('htmx:load', (event) => attachAll(event.detail.elt.parentElement || document))
})()
