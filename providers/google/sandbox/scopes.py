"""OAuth scopes: what the consent page says about each, and which ones each Drive method takes.

Method scope lists come from the discovery document (`drive-v3-subset.json`, each method's
`scopes`); the readable words are the ones Google's consent screen shows.
"""

from __future__ import annotations

AUTH = "https://www.googleapis.com/auth/"
EMAIL = AUTH + "userinfo.email"
PROFILE = AUTH + "userinfo.profile"
OPENID = "openid"
IDENTITY = frozenset({OPENID, EMAIL, PROFILE})

# Short forms Google accepts in the authorization request and expands in its answers.
ALIASES = {"email": EMAIL, "profile": PROFILE}

DESCRIPTIONS = {
    OPENID: "Associate you with your personal info on Google",
    EMAIL: "See your primary Google Account email address",
    PROFILE: "See your personal info, including any personal info you've made publicly available",
    AUTH + "drive": "See, edit, create, and delete all of your Google Drive files",
    AUTH
    + "drive.appdata": "See, create, and delete its own configuration data in your Google Drive",
    AUTH + "drive.file": (
        "See, edit, create, and delete only the specific Google Drive files you use with this app"
    ),
    AUTH + "drive.meet.readonly": (
        "See and download your Google Drive files that were created or edited by Google Meet."
    ),
    AUTH + "drive.metadata": "View and manage metadata of files in your Google Drive",
    AUTH + "drive.metadata.readonly": "See information about your Google Drive files",
    AUTH + "drive.photos.readonly": "View the photos, videos and albums in your Google Photos",
    AUTH + "drive.readonly": "See and download all your Google Drive files",
}

_DRIVE = {
    AUTH + s
    for s in (
        "drive",
        "drive.appdata",
        "drive.file",
        "drive.meet.readonly",
        "drive.metadata",
        "drive.metadata.readonly",
        "drive.photos.readonly",
        "drive.readonly",
    )
}
# files.list, files.get (metadata), changes.*: every Drive scope.
METADATA = frozenset(_DRIVE)
# about.get lists every Drive scope except drive.meet.readonly.
ABOUT = frozenset(_DRIVE - {AUTH + "drive.meet.readonly"})
# files.export lists only scopes that may read content; alt=media downloads need the same.
CONTENT = frozenset(
    AUTH + s for s in ("drive", "drive.file", "drive.meet.readonly", "drive.readonly")
)
# Scopes that see the whole Drive. drive.file, drive.appdata, drive.photos.readonly and
# drive.meet.readonly only reach files the app created or the user picked, which the sandbox
# models as none of the seeded files.
WHOLE_DRIVE = frozenset(
    AUTH + s for s in ("drive", "drive.readonly", "drive.metadata", "drive.metadata.readonly")
)


def normalize(requested: str) -> tuple[tuple[str, ...], list[str]]:
    """Space-delimited request -> (known scopes in order, unknown ones)."""
    known, unknown = [], []
    for scope in requested.split():
        scope = ALIASES.get(scope, scope)
        if scope in DESCRIPTIONS:
            if scope not in known:
                known.append(scope)
        else:
            unknown.append(scope)
    return tuple(known), unknown


def describe(scope: str) -> str:
    return DESCRIPTIONS.get(scope, scope)
