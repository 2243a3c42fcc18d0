"""The generated schema: authors / articles / comments, sized by a scale factor, so the data can
grow without data files (`--scale`; 1 = 1,000 authors, 10,000 articles, 50,000 comments; 20 =
a million comments). PostgreSQL generates the rows itself (`generate_series`), deterministically,
so every run at one scale has the same data.

The inserts of the benchmark (`insert_1`, `insert_100`, `insert_10000`) write articles of one
extra author that no read query looks at, so the growing table does not change what the read
queries return.
"""

from __future__ import annotations

import copy
from typing import Any

AUTHORS_PER_SCALE = 1_000
ARTICLES_PER_AUTHOR = 10
COMMENTS_PER_ARTICLE = 5


def authors(scale: int) -> int:
    return AUTHORS_PER_SCALE * scale


def insert_author(scale: int) -> int:
    """The author id the inserts use: one past the generated authors."""
    return authors(scale) + 1


def schema_sql(scale: int) -> str:
    n_authors = authors(scale)
    n_articles = n_authors * ARTICLES_PER_AUTHOR
    n_comments = n_articles * COMMENTS_PER_ARTICLE
    return f"""
CREATE TABLE author (
  id serial PRIMARY KEY,
  name text NOT NULL,
  email text NOT NULL UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE article (
  id serial PRIMARY KEY,
  author_id integer NOT NULL REFERENCES author (id),
  title text NOT NULL,
  body text NOT NULL,
  rating integer,
  published boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX article_author_id ON article (author_id);
CREATE TABLE comment (
  id serial PRIMARY KEY,
  article_id integer NOT NULL REFERENCES article (id),
  author_id integer NOT NULL REFERENCES author (id),
  body text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX comment_article_id ON comment (article_id);
CREATE INDEX comment_author_id ON comment (author_id);

INSERT INTO author (id, name, email)
  SELECT i, 'Author ' || i, 'author' || i || '@example.com' FROM generate_series(1, {n_authors + 1}) i;
INSERT INTO article (id, author_id, title, body, rating, published, created_at)
  SELECT i, (i - 1) / {ARTICLES_PER_AUTHOR} + 1, 'Article ' || i, repeat('Lorem ipsum dolor sit amet. ', 1 + i % 8),
         i % 5 + 1, i % 3 <> 0, timestamptz '2026-01-01' + i * interval '1 minute'
  FROM generate_series(1, {n_articles}) i;
INSERT INTO comment (id, article_id, author_id, body)
  SELECT i, (i - 1) / {COMMENTS_PER_ARTICLE} + 1, (i * 7919) % {n_authors} + 1, 'Comment ' || i
  FROM generate_series(1, {n_comments}) i;
SELECT setval('author_id_seq', {n_authors + 1});
SELECT setval('article_id_seq', {n_articles});
SELECT setval('comment_id_seq', {n_comments});
VACUUM ANALYZE author, article, comment;
"""


def _table(name: str, objects: list[tuple[str, str]], arrays: list[tuple[str, str, str]]) -> dict[str, Any]:
    return {
        "table": {"schema": "public", "name": name},
        "object_relationships": [{"name": rel, "using": {"foreign_key_constraint_on": column}}
                                 for rel, column in objects],
        "array_relationships": [
            {"name": rel, "using": {"foreign_key_constraint_on": {
                "column": column, "table": {"schema": "public", "name": table}}}}
            for rel, table, column in arrays],
    }


def with_generated_tables(replace_metadata: dict[str, Any]) -> dict[str, Any]:
    """Hasura's replace_metadata (version 2) with the generated tables tracked, for admin."""
    metadata = copy.deepcopy(replace_metadata)
    metadata["args"]["tables"] += [
        _table("author", [], [("articles", "article", "author_id"), ("comments", "comment", "author_id")]),
        _table("article", [("author", "author_id")], [("comments", "comment", "article_id")]),
        _table("comment", [("article", "article_id"), ("author", "author_id")], []),
    ]
    return metadata
