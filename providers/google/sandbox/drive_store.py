"""The Drive data: nodes, who sees them, and the mutations the control API performs.

Every method expects the caller to hold the state lock (`GoogleState.lock`). Mutations record
their effects in the changes feed for every account that could see the file before or after.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from datetime import datetime, timedelta

from . import ids
from .changes import ChangeLog
from .content import ContentSpec
from .model import FOLDER, Account, Node, SharedDrive, node_from, node_record
from .tree import World


class StoreError(Exception):
    """A control-API request that cannot be applied (unknown id, bad parent...)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class DriveStore:
    def __init__(self, world: World, rng_seed: int, now: Callable[[], datetime]) -> None:
        self.now = now
        self.accounts: dict[str, Account] = {a.sub: a for a in world.accounts}
        self.drives: dict[str, SharedDrive] = {d.id: d for d in world.drives}
        self.nodes: dict[str, Node] = {}
        self.children: dict[str, dict[str, None]] = {}  # parent id -> ordered set of ids
        self.hidden: dict[str, set[str]] = {}  # account sub -> ids unshared from it
        self.changes = ChangeLog(world.change_seq)
        # files.list results by query, kept until the next mutation so paging through a
        # big Drive does not filter and sort everything again for every page.
        self.listings: dict[tuple, list[str]] = {}
        self._next_seq = 0
        self._rng_seed = rng_seed
        self._rng = random.Random(f"google-sandbox-runtime:{rng_seed}")
        for node in world.nodes:
            self._insert(node)
        # What differs from the seeded world, so a restart keeps only that (durable.py).
        self.touched: set[str] = set()  # nodes changed, added or deleted
        self.reshaped: set[str] = set()  # folders whose children changed

    # --- lookups ---------------------------------------------------------------------------

    def account(self, key: str | None) -> Account:
        """An account by sub or email; the first account when `key` is empty."""
        if not key:
            return next(iter(self.accounts.values()))
        for account in self.accounts.values():
            if key in (account.sub, account.email):
                return account
        raise StoreError(f"unknown account {key!r}", 404)

    def node(self, node_id: str) -> Node:
        node = self.nodes.get(node_id)
        if node is None:
            raise StoreError(f"unknown file id {node_id!r}", 404)
        return node

    def ancestors(self, node: Node) -> Iterator[Node]:
        parent = node.parent
        while parent is not None:
            ancestor = self.nodes[parent]
            yield ancestor
            parent = ancestor.parent

    def is_trashed(self, node: Node) -> bool:
        # Trashing a folder trashes what is inside it (explicitlyTrashed stays false there).
        return node.explicitly_trashed or any(a.explicitly_trashed for a in self.ancestors(node))

    def can_see(self, sub: str, node: Node) -> bool:
        if node.drive_id is None:
            if node.owner != sub:
                return False
        elif sub not in self.drives[node.drive_id].members:
            return False
        hidden = self.hidden.get(sub)
        return not hidden or (
            node.id not in hidden and not any(a.id in hidden for a in self.ancestors(node))
        )

    def path(self, node: Node) -> str:
        """ "Kitchen/Recipes" in My Drive; shared-drive paths start with the drive's name."""
        names = [node.name] + [a.name for a in self.ancestors(node)]
        if node.drive_id is None:
            names = names[:-1]  # drop "My Drive"
        return "/".join(reversed(names))

    def descendants(self, node: Node) -> Iterator[Node]:
        stack = list(self.children.get(node.id, ()))
        while stack:
            child = self.nodes[stack.pop()]
            yield child
            stack.extend(self.children.get(child.id, ()))

    def children_of(self, parent_id: str) -> Iterable[Node]:
        return (self.nodes[i] for i in self.children.get(parent_id, ()))

    def listable(self) -> Iterable[Node]:
        return (n for n in self.nodes.values() if n.parent is not None)

    def find(self, sub: str, spec: str) -> Node:
        """A node by id, "root", or a path as `path()` spells it, as `sub` sees it."""
        account = self.accounts[sub]
        if spec in ("", "root"):
            return self.nodes[account.root_id]
        if spec in self.nodes:
            return self.nodes[spec]
        found = self._walk(sub, spec)
        if found is None:
            # Names may contain "/": fall back to comparing whole paths.
            found = next(
                (n for n in self.listable() if self.can_see(sub, n) and self.path(n) == spec),
                None,
            )
        if found is None:
            raise StoreError(f"no file or folder at {spec!r}", 404)
        return found

    def _walk(self, sub: str, path: str) -> Node | None:
        """Follow a path from My Drive (or from a shared drive named by its first part)."""
        first, *rest = path.split("/")
        drive = next((d for d in self.drives.values() if d.name == first), None)
        if drive is not None and sub in drive.members:
            node: Node | None = self.nodes[drive.id]
        else:
            node, rest = self.nodes[self.accounts[sub].root_id], [first, *rest]
        for name in rest:
            if node is None:
                return None
            node = next(
                (c for c in self.children_of(node.id) if c.name == name and self.can_see(sub, c)),
                None,
            )
        return node

    # --- mutations -------------------------------------------------------------------------

    def create(
        self,
        *,
        account: Account,
        name: str,
        parent: Node,
        mime_type: str,
        content: ContentSpec | None,
        starred: bool = False,
    ) -> Node:
        if not parent.is_folder:
            raise StoreError(f"parent {parent.id!r} is not a folder")
        now = self.now()
        node = Node(
            id=self._new_id(editor=mime_type.startswith("application/vnd.google-apps.")),
            name=name,
            mime_type=mime_type,
            parent=parent.id,
            drive_id=parent.drive_id,
            owner=account.sub if parent.drive_id is None else None,
            created=now,
            modified=now,
            version=1,
            seq=0,
            content=None if mime_type == FOLDER else content,
            starred=starred,
            last_modifier=account.sub,
        )
        self._mutate([node], lambda: self._insert(node))
        self.reshaped.add(parent.id)
        return node

    def modify(
        self,
        node: Node,
        *,
        name: str | None = None,
        content: ContentSpec | None = None,
        size: int | None = None,
    ) -> Node:
        if node.content is None and (content is not None or size is not None):
            raise StoreError("folders have no content")

        def apply() -> None:
            if name is not None:
                node.name = name
            if node.content is not None and (content is not None or size is not None):
                spec = content or node.content
                # New bytes every time, even for a size-only change: a new md5 (README §2.2).
                new_size = size if size is not None else spec.size
                node.content = replace(spec, seed=self.new_seed(), size=new_size)
            self._touch(node)

        self._mutate([node], apply)
        return node

    def set_trashed(self, node: Node, trashed: bool) -> Node:
        def apply() -> None:
            node.explicitly_trashed = trashed
            node.trashed_time = self.now() if trashed else None
            self._touch(node)

        self._mutate([node, *self.descendants(node)], apply)
        return node

    def move(self, node: Node, parent: Node) -> Node:
        if not parent.is_folder:
            raise StoreError(f"parent {parent.id!r} is not a folder")
        if parent.id == node.id or any(a.id == node.id for a in self.ancestors(parent)):
            raise StoreError("a folder cannot move into itself")
        affected = [node]
        if parent.drive_id != node.drive_id:
            affected += list(self.descendants(node))

        def apply() -> None:
            self.children[node.parent].pop(node.id, None)
            self.children.setdefault(parent.id, {})[node.id] = None
            node.parent = parent.id
            owner = None if parent.drive_id else (node.owner or parent.owner)
            for moved in affected:
                moved.drive_id, moved.owner = parent.drive_id, owner
            self._touch(node)

        self.reshaped.update((node.parent, parent.id))  # before: apply() changes node.parent
        self._mutate(affected, apply)
        return node

    def delete(self, node: Node) -> None:
        doomed = [node, *self.descendants(node)]

        def apply() -> None:
            self.children[node.parent].pop(node.id, None)
            for gone in doomed:
                self.nodes.pop(gone.id, None)
                self.children.pop(gone.id, None)

        self.reshaped.add(node.parent)
        self._mutate(doomed, apply)

    def unshare(self, node: Node, account: Account) -> None:
        """The file (and what is under it) disappears for `account` only."""
        self._mutate(
            [node, *self.descendants(node)],
            lambda: self.hidden.setdefault(account.sub, set()).add(node.id),
        )

    def new_seed(self) -> int:
        return self._rng.getrandbits(32)

    # --- keeping across a restart (durable.py) -----------------------------------------------

    def saved(self) -> dict:
        """What differs from the seeded world: changed and new nodes, deleted ids, the child
        order of reshaped folders, what was unshared, and the changes feed."""
        kept = sorted((self.nodes[i] for i in self.touched if i in self.nodes), key=_seq)
        return {
            "nodes": [node_record(n) for n in kept],
            "deleted": sorted(i for i in self.touched if i not in self.nodes),
            "children": {
                p: list(self.children[p]) for p in sorted(self.reshaped & self.children.keys())
            },
            "hidden": {sub: sorted(ids) for sub, ids in self.hidden.items()},
            "next_seq": self._next_seq,
            "changes": self.changes.saved(),
        }

    def apply_saved(self, saved: dict) -> None:
        for node_id in saved["deleted"]:
            self.nodes.pop(node_id, None)
            self.children.pop(node_id, None)
        for record in saved["nodes"]:
            node = node_from(record)
            self.nodes[node.id] = node
        for parent, order in saved["children"].items():
            self.children[parent] = dict.fromkeys(order)
        self.hidden = {sub: set(hidden) for sub, hidden in saved["hidden"].items()}
        self._next_seq = int(saved["next_seq"])
        self.changes.apply_saved(saved["changes"])
        self.touched = {r["id"] for r in saved["nodes"]} | set(saved["deleted"])
        self.reshaped = set(saved["children"])
        self.listings.clear()
        # Not the run's first draws again: new files get ids and bytes of their own.
        self._rng.seed(f"google-sandbox-runtime:{self._rng_seed}:{self.changes.last}")

    # --- internals -------------------------------------------------------------------------

    def _insert(self, node: Node) -> None:
        node.seq = self._next_seq
        self._next_seq += 1
        self.nodes[node.id] = node
        if node.parent is not None:
            self.children.setdefault(node.parent, {})[node.id] = None

    def _new_id(self, *, editor: bool) -> str:
        while True:
            node_id = ids.file_id(self._rng, editor=editor)
            if node_id not in self.nodes:
                return node_id

    def _touch(self, node: Node) -> None:
        # Drive's `version` only grows; modifiedTime never goes backwards.
        node.version += 1
        node.modified = max(self.now(), node.modified + timedelta(milliseconds=1))

    def _mutate(self, nodes: list[Node], apply: Callable[[], None]) -> None:
        before = {n.id: self._audience(n) for n in nodes}
        apply()
        self.touched.update(before)
        self.listings.clear()
        now = self.now()
        records = []
        for node in nodes:
            alive = node.id in self.nodes
            after = self._audience(node) if alive else set()
            for sub in sorted(before[node.id] | after):
                records.append((sub, node.id, sub not in after, node.drive_id))
        self.changes.record(records, now)

    def _audience(self, node: Node) -> set[str]:
        return {sub for sub in self.accounts if self.can_see(sub, node)}


def _seq(node: Node) -> int:
    return node.seq
