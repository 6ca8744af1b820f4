// Small form behaviours that pages declare with data attributes (no inline handlers: the
// Content-Security-Policy allows scripts from our own files only).
// <select data-autosubmit>: submitting its form on change; without JavaScript the form's button does it.
document.addEventListener('change', (event) => {
  const field = event.target
  if (field instanceof HTMLElement && field.matches('[data-autosubmit]') && field.form) field.form.requestSubmit()
})
