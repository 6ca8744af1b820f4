"""Why an upload was refused, in words an editor can act on."""


class UploadError(Exception):
    """Refused; the message is shown to the editor as it is."""


class UploadNotFound(UploadError):
    """No such session for this user (another user's session is 'not found' too)."""
