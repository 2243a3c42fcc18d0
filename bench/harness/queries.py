"""The query set: Hasura's own CI benchmark queries (verbatim, as role `employee`, user 4, the
headers of `hasura-ci/config.query.yaml`), then our own shapes (by primary key, filtered and
ordered list, 3-level nesting, aggregate, the same query as admin and as a filtered role,
`{ __typename }`), the generated authors / articles / comments schema (`generated.py`), and
inserts of 1, 100 and 10,000 articles.

Each query has a graft form (Hasura's naming) and a PostGraphile form (its default v4
inflection, which PostGraphile v5 reproduces through `makeV4Preset`). PostGraphile has no
Hasura-style roles here, so the role's row filter is written into its query: both return the
same rows (the harness checks this), but PostGraphile does not pay for a permission layer.

`truth_sql` counts, straight from the database, the rows the response must contain; `count_graft`
and `count_pgl` count them in each response. A response that disagrees is a failed check and the
candidate is not timed on that query.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

ADMIN_SECRET = "my-secret"

ADMIN_HEADERS = {"X-Hasura-Admin-Secret": ADMIN_SECRET}
# hasura-ci/config.query.yaml, minus Accept-Encoding: gzip (graft does not compress yet; no peer
# compresses in this harness, so all are measured on identity bodies).
EMPLOYEE_HEADERS = {"X-Hasura-Admin-Secret": ADMIN_SECRET, "X-Hasura-Role": "employee",
                    "X-Hasura-User-Id": "4"}

Counter = Callable[[Any], int | None]


@dataclass
class Query:
    name: str
    about: str
    graft: str
    pgl: str
    graft_headers: dict[str, str]
    variables: dict[str, Any] = field(default_factory=dict)
    truth_sql: str | None = None
    count_graft: Counter = lambda data: None
    count_pgl: Counter = lambda data: None
    # Queries answered without SQL (introspection, __typename) have no pgbench ceiling.
    has_sql: bool = True
    # Heavy queries that Hasura itself only measures at low load.
    max_connections: int | None = None
    # Mutations: rows written per request (the report turns requests/s into rows/s), and the
    # plain multi-row INSERT that pgbench runs as the floor of what writing them costs.
    rows_per_request: int = 0
    plain_sql: str | None = None
    # Why PostGraphile is not asked this query (it is then listed as a failed check).
    pgl_unavailable: str | None = None


HASURA_COMPLEX_GRAFT = """query MyQuery($genre: String!, $track_lim: Int = 1000) {
  playlist_containing_genre: Playlist(order_by: {Name: asc}, where: {PlaylistTracks: {Track: {Genre: {Name: {_eq: $genre}}}}}) {
    Name
    tracks_of_genre: PlaylistTracks(where: {Track: {Genre: {Name: {_eq: $genre}}}}, limit: $track_lim) {
      Track {
        Name
        Album {
          Title
          Artist {
            Name
          }
        }
        MediaType {
          Name
        }
      }
    }
  }
}
"""

HASURA_COMPLEX_PGL = """query MyQuery($genre: String!, $track_lim: Int = 1000) {
  playlist_containing_genre: allPlaylists(orderBy: NAME_ASC, filter: {playlistTracksByPlaylistId: {some: {trackByTrackId: {genreByGenreId: {name: {equalTo: $genre}}}}}}) {
    nodes {
      name
      tracks_of_genre: playlistTracksByPlaylistId(filter: {trackByTrackId: {genreByGenreId: {name: {equalTo: $genre}}}}, first: $track_lim) {
        nodes {
          trackByTrackId {
            name
            albumByAlbumId {
              title
              artistByArtistId {
                name
              }
            }
            mediaTypeByMediaTypeId {
              name
            }
          }
        }
      }
    }
  }
}
"""

INTROSPECTION = """query IntrospectionQuery {
  __schema {
    queryType {
      name
    }
    mutationType {
      name
    }
    subscriptionType {
      name
    }
    types {
      ...FullType
    }
    directives {
      name
      description
      locations
      args {
        ...InputValue
      }
    }
  }
}

fragment FullType on __Type {
  kind
  name
  description
  fields(includeDeprecated: true) {
    name
    description
    args {
      ...InputValue
    }
    type {
      ...TypeRef
    }
    isDeprecated
    deprecationReason
  }
  inputFields {
    ...InputValue
  }
  interfaces {
    ...TypeRef
  }
  enumValues(includeDeprecated: true) {
    name
    description
    isDeprecated
    deprecationReason
  }
  possibleTypes {
    ...TypeRef
  }
}

fragment InputValue on __InputValue {
  name
  description
  type {
    ...TypeRef
  }
  defaultValue
}

fragment TypeRef on __Type {
  kind
  name
  ofType {
    kind
    name
    ofType {
      kind
      name
      ofType {
        kind
        name
        ofType {
          kind
          name
          ofType {
            kind
            name
            ofType {
              kind
              name
              ofType {
                kind
                name
              }
            }
          }
        }
      }
    }
  }
}
"""


def _complex_truth(genre: str, limit: int) -> str:
    return f"""select coalesce(sum(least(n, {limit})), 0) from (
  select count(*) n from "PlaylistTrack" pt join "Track" t using ("TrackId")
  join "Genre" g using ("GenreId") where g."Name" = '{genre}' group by pt."PlaylistId") s"""


def _complex_count_graft(data: Any) -> int:
    return sum(len(p["tracks_of_genre"]) for p in data["playlist_containing_genre"])


def _complex_count_pgl(data: Any) -> int:
    return sum(len(p["tracks_of_genre"]["nodes"]) for p in data["playlist_containing_genre"]["nodes"])


def _artist_tracks_graft(data: Any) -> int:
    return sum(len(album["Tracks"]) for artist in data["Artist"] for album in artist["Albums"])


def _artist_tracks_pgl(data: Any) -> int:
    return sum(len(album["tracksByAlbumId"]["nodes"])
               for artist in data["allArtists"]["nodes"]
               for album in artist["albumsByArtistId"]["nodes"])


INVOICES_GRAFT = """query Invoices {
  Invoice(order_by: {InvoiceId: asc}) {
    InvoiceId
    InvoiceDate
    Total
    Customer {
      Email
    }
  }
}
"""

QUERIES: list[Query] = [
    Query(
        name="hasura_simple",
        about="Hasura CI `simple_query`: `Customer { Email }` as employee 4 (row filter SupportRepId = 4)",
        graft="query MyQuery {\n  Customer {\n    Email\n  }\n}\n",
        pgl="query MyQuery { allCustomers(condition: {supportRepId: 4}) { nodes { email } } }",
        graft_headers=EMPLOYEE_HEADERS,
        truth_sql='select count(*) from "Customer" where "SupportRepId" = 4',
        count_graft=lambda d: len(d["Customer"]),
        count_pgl=lambda d: len(d["allCustomers"]["nodes"]),
    ),
    Query(
        name="hasura_complex_small",
        about="Hasura CI `complex_query`, small result (genre Comedy, track_lim 1), as employee 4",
        graft=HASURA_COMPLEX_GRAFT,
        pgl=HASURA_COMPLEX_PGL,
        graft_headers=EMPLOYEE_HEADERS,
        variables={"genre": "Comedy", "track_lim": 1},
        truth_sql=_complex_truth("Comedy", 1),
        count_graft=_complex_count_graft,
        count_pgl=_complex_count_pgl,
    ),
    Query(
        name="hasura_complex_large",
        about="Hasura CI `complex_query`, large result (genre Jazz, ~30 kB), as employee 4",
        graft=HASURA_COMPLEX_GRAFT,
        pgl=HASURA_COMPLEX_PGL,
        graft_headers=EMPLOYEE_HEADERS,
        variables={"genre": "Jazz"},
        truth_sql=_complex_truth("Jazz", 1000),
        count_graft=_complex_count_graft,
        count_pgl=_complex_count_pgl,
    ),
    Query(
        name="hasura_introspection",
        about="Hasura CI `full_introspection` (the standard introspection query), as employee 4",
        graft=INTROSPECTION,
        pgl=INTROSPECTION,
        graft_headers=EMPLOYEE_HEADERS,
        count_graft=lambda d: 1 if d["__schema"]["types"] else 0,
        count_pgl=lambda d: 1 if d["__schema"]["types"] else 0,
        has_sql=False,
        max_connections=16,
    ),
    Query(
        name="by_pk",
        about="one album by primary key (a variable) with its artist, as admin",
        graft="query AlbumByPk($id: Int!) { Album_by_pk(AlbumId: $id) { AlbumId Title Artist { Name } } }",
        pgl="query AlbumByPk($id: Int!) { albumByAlbumId(albumId: $id) { albumId title artistByArtistId { name } } }",
        graft_headers=ADMIN_HEADERS,
        variables={"id": 1},
        truth_sql='select count(*) from "Album" where "AlbumId" = 1',
        count_graft=lambda d: 1 if d["Album_by_pk"]["Title"] else 0,
        count_pgl=lambda d: 1 if d["albumByAlbumId"]["title"] else 0,
    ),
    Query(
        name="filtered_list",
        about="tracks of genre 1 longer than 5 min, ordered by name, limit 20, as admin",
        graft="""query LongRock { Track(where: {GenreId: {_eq: 1}, Milliseconds: {_gt: 300000}}, order_by: {Name: asc}, limit: 20) { TrackId Name Milliseconds UnitPrice } }""",
        pgl="""query LongRock { allTracks(condition: {genreId: 1}, filter: {milliseconds: {greaterThan: 300000}}, orderBy: NAME_ASC, first: 20) { nodes { trackId name milliseconds unitPrice } } }""",
        graft_headers=ADMIN_HEADERS,
        truth_sql='select least(count(*), 20) from "Track" where "GenreId" = 1 and "Milliseconds" > 300000',
        count_graft=lambda d: len(d["Track"]),
        count_pgl=lambda d: len(d["allTracks"]["nodes"]),
    ),
    Query(
        name="nested_3",
        about="3 levels: 20 artists -> albums -> tracks, as admin",
        graft="""query Nested { Artist(order_by: {ArtistId: asc}, limit: 20) { Name Albums { Title Tracks { Name } } } }""",
        pgl="""query Nested { allArtists(orderBy: ARTIST_ID_ASC, first: 20) { nodes { name albumsByArtistId { nodes { title tracksByAlbumId { nodes { name } } } } } } }""",
        graft_headers=ADMIN_HEADERS,
        truth_sql="""select count(*) from "Track" t join "Album" a using ("AlbumId")
  where a."ArtistId" in (select "ArtistId" from "Artist" order by 1 limit 20)""",
        count_graft=_artist_tracks_graft,
        count_pgl=_artist_tracks_pgl,
    ),
    Query(
        name="aggregate",
        about="count, sum, avg, max over the tracks of genre 1, as admin",
        graft="""query Agg { Track_aggregate(where: {GenreId: {_eq: 1}}) { aggregate { count sum { Milliseconds } avg { UnitPrice } max { Milliseconds } } } }""",
        pgl="""query Agg { allTracks(condition: {genreId: 1}) { totalCount aggregates { sum { milliseconds } average { unitPrice } max { milliseconds } } } }""",
        graft_headers=ADMIN_HEADERS,
        truth_sql='select count(*) from "Track" where "GenreId" = 1',
        count_graft=lambda d: d["Track_aggregate"]["aggregate"]["count"],
        count_pgl=lambda d: d["allTracks"]["totalCount"],
    ),
    Query(
        name="invoices_admin",
        about="all 412 invoices with their customer's email, as admin",
        graft=INVOICES_GRAFT,
        pgl="""query Invoices { allInvoices(orderBy: INVOICE_ID_ASC) { nodes { invoiceId invoiceDate total customerByCustomerId { email } } } }""",
        graft_headers=ADMIN_HEADERS,
        truth_sql='select count(*) from "Invoice"',
        count_graft=lambda d: len(d["Invoice"]),
        count_pgl=lambda d: len(d["allInvoices"]["nodes"]),
    ),
    Query(
        name="invoices_admin_same_rows",
        about="as admin, the rows employee 4 sees, by a where on the same relationship: the "
        "baseline for the role's permission overhead",
        graft=INVOICES_GRAFT.replace(
            "order_by: {InvoiceId: asc}",
            "where: {Customer: {SupportRepId: {_eq: 4}}}, order_by: {InvoiceId: asc}",
        ),
        pgl="""query Invoices { allInvoices(orderBy: INVOICE_ID_ASC, filter: {customerByCustomerId: {supportRepId: {equalTo: 4}}}) { nodes { invoiceId invoiceDate total customerByCustomerId { email } } } }""",
        graft_headers=ADMIN_HEADERS,
        truth_sql="""select count(*) from "Invoice" i join "Customer" c using ("CustomerId") where c."SupportRepId" = 4""",
        count_graft=lambda d: len(d["Invoice"]),
        count_pgl=lambda d: len(d["allInvoices"]["nodes"]),
    ),
    Query(
        name="invoices_employee",
        about="the same query as employee 4 (row filter through a relationship: Customer.SupportRepId = 4)",
        graft=INVOICES_GRAFT,
        pgl="""query Invoices { allInvoices(orderBy: INVOICE_ID_ASC, filter: {customerByCustomerId: {supportRepId: {equalTo: 4}}}) { nodes { invoiceId invoiceDate total customerByCustomerId { email } } } }""",
        graft_headers=EMPLOYEE_HEADERS,
        truth_sql="""select count(*) from "Invoice" i join "Customer" c using ("CustomerId") where c."SupportRepId" = 4""",
        count_graft=lambda d: len(d["Invoice"]),
        count_pgl=lambda d: len(d["allInvoices"]["nodes"]),
    ),
    Query(
        name="typename",
        about="`{ __typename }`: the floor (HTTP + parse + validate, no database)",
        graft="{ __typename }",
        pgl="{ __typename }",
        graft_headers=ADMIN_HEADERS,
        count_graft=lambda d: 1 if d["__typename"] else 0,
        count_pgl=lambda d: 1 if d["__typename"] else 0,
        has_sql=False,
    ),
]



def _generated_nested_truth() -> str:
    return "select count(*) from comment c join article a on a.id = c.article_id where a.author_id <= 10"


def _generated_nested_graft(data: Any) -> int:
    return sum(len(article["comments"]) for author in data["author"] for article in author["articles"])


def _generated_nested_pgl(data: Any) -> int:
    return sum(len(article["commentsByArticleId"]["nodes"])
               for author in data["allAuthors"]["nodes"]
               for article in author["articlesByAuthorId"]["nodes"])


QUERIES += [
    Query(
        name="generated_nested",
        about="generated schema: 10 authors -> their 100 articles -> 500 comments, as admin",
        graft="""query Authors { author(where: {id: {_lte: 10}}, order_by: {id: asc}) { name articles(order_by: {id: asc}) { title rating comments(order_by: {id: asc}) { body } } } }""",
        pgl="""query Authors { allAuthors(filter: {id: {lessThanOrEqualTo: 10}}, orderBy: ID_ASC) { nodes { name articlesByAuthorId(orderBy: ID_ASC) { nodes { title rating commentsByArticleId(orderBy: ID_ASC) { nodes { body } } } } } } }""",
        graft_headers=ADMIN_HEADERS,
        truth_sql=_generated_nested_truth(),
        count_graft=_generated_nested_graft,
        count_pgl=_generated_nested_pgl,
    ),
    Query(
        name="generated_aggregate",
        about="generated schema: count and average rating of the published articles rated 4 or 5 "
        "(a scan that grows with --scale), as admin",
        graft="""query Rated { article_aggregate(where: {published: {_eq: true}, rating: {_gte: 4}}) { aggregate { count avg { rating } } } }""",
        pgl="""query Rated { allArticles(condition: {published: true}, filter: {rating: {greaterThanOrEqualTo: 4}}) { totalCount aggregates { average { rating } } } }""",
        graft_headers=ADMIN_HEADERS,
        truth_sql="select count(*) from article where published and rating >= 4",
        count_graft=lambda d: d["article_aggregate"]["aggregate"]["count"],
        count_pgl=lambda d: d["allArticles"]["totalCount"],
    ),
]


def _article(author: int, index: int) -> dict[str, Any]:
    return {"author_id": author, "title": f"Bench article {index}", "body": "Written by the benchmark.",
            "rating": 3}


def _pgl_article(article: dict[str, Any]) -> dict[str, Any]:
    return {"authorId": article["author_id"], "title": article["title"], "body": article["body"],
            "rating": article["rating"]}


def _sql_literal(value: Any) -> str:
    if isinstance(value, int):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


# PostGraphile's form of an insert is one aliased createArticle per row. A trial of the
# 10,000-row batch (bench/README.md) took 8.3 s on v4 and had no answer after 25 minutes on v5,
# longer than wrk waits for a response, so it is not timed.
PGL_MAX_ALIASES = 1_000
PGL_TOO_MANY_ALIASES = ("not timed: PostGraphile has no multi-row create; its form, 10,000 aliased "
                        "createArticle mutations in one request, took 8.3 s on v4 and had no answer "
                        "after 25 min on v5 in a trial (bench/README.md)")


def insert_query(rows: int, author: int) -> Query:
    """Insert `rows` articles in one request. graft: `insert_article(objects: $objects)`, one
    statement. PostGraphile has no multi-row create: its equivalent is one `createArticle` per
    row, aliased, in one mutation document (each with its own variable). The plain INSERT is
    `INSERT ... VALUES (...), (...) RETURNING id`, what a hand-written client would send."""
    articles = [_article(author, i) for i in range(rows)]
    aliases = " ".join(f"a{i}: createArticle(input: {{article: $a{i}}}) {{ article {{ id }} }}"
                       for i in range(rows))
    declarations = ", ".join(f"$a{i}: ArticleInput!" for i in range(rows))
    values = ", ".join("(" + ", ".join(_sql_literal(a[c]) for c in ("author_id", "title", "body", "rating")) + ")"
                       for a in articles)

    def count_graft(data: Any) -> int:
        inserted = data["insert_article"]
        return len(inserted["returning"]) if inserted["affected_rows"] == len(inserted["returning"]) else -1

    return Query(
        name=f"insert_{rows}",
        about=f"insert {rows:,} article{'s' if rows > 1 else ''} in one request (returning their ids), as admin",
        graft="""mutation InsertArticles($objects: [article_insert_input!]!) { insert_article(objects: $objects) { affected_rows returning { id } } }""",
        pgl=f"mutation CreateArticles({declarations}) {{ {aliases} }}",
        graft_headers=ADMIN_HEADERS,
        variables={"objects": articles},
        truth_sql=f"select {rows}",
        count_graft=count_graft,
        count_pgl=lambda d: sum(1 for v in d.values() if v["article"]["id"]),
        # 10,000 rows per request at 64 connections would only measure the queue.
        max_connections=16 if rows > 100 else None,
        rows_per_request=rows,
        plain_sql=f"INSERT INTO article (author_id, title, body, rating) VALUES {values} RETURNING id",
        pgl_unavailable=PGL_TOO_MANY_ALIASES if rows > PGL_MAX_ALIASES else None,
    )


def pgl_variables(query: Query) -> dict[str, Any]:
    """PostGraphile's variables: one `$aN` per inserted row for the inserts, else graft's."""
    if not query.rows_per_request:
        return query.variables
    return {f"a{i}": _pgl_article(a) for i, a in enumerate(query.variables["objects"])}


def with_inserts(queries: list[Query], author: int) -> list[Query]:
    return queries + [insert_query(rows, author) for rows in (1, 100, 10_000)]
