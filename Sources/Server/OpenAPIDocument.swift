import Foundation

/// The API's OpenAPI 3 description, served at `/openapi.yaml`: the text of the repository's
/// openapi.yaml (ServeTests checks that the two are the same, byte for byte; edit both).
enum OpenAPIDocument {
    static let yaml = #"""
openapi: 3.0.3
info:
  title: Thresher serve
  version: "1"
  description: |
    `thresher serve FILE`: the scenario and its book loaded once; deterministic what-ifs (the CLI's
    `stress --shock/--shock-vol`, bit for bit), Monte Carlo commands (`run`, `calibrate`, `evaluate`)
    as jobs with progress and cancellation, a reload of the book from its CSV export.
    Binds 127.0.0.1 unless `--host` says otherwise; any other address needs `THRESHER_TOKEN`, and
    then every `/api` request needs `Authorization: Bearer TOKEN` (or `access_token=TOKEN` in the
    query). Files named in requests (`policy`, `market`, paths inside `set` values) must lie in the
    scenario's folder. Errors: `{"error": {"status", "message", "file", "path", "line"}}` with the
    CLI's message and field path.
servers:
  - url: http://127.0.0.1:8080
components:
  securitySchemes:
    bearer:
      type: http
      scheme: bearer
  parameters:
    job:
      name: id
      in: path
      required: true
      description: "The job's id, as POST /api/jobs answered it."
      schema: {type: string}
    shock:
      name: shock
      in: query
      description: "ASSET=MOVE, the CLI's --shock (relative spot move; * for every asset not named). Repeatable."
      schema: {type: array, items: {type: string}}
      style: form
      explode: true
    shock_vol:
      name: shock_vol
      in: query
      description: "ASSET=MOVE, the CLI's --shock-vol (relative implied-vol move). Repeatable."
      schema: {type: array, items: {type: string}}
      style: form
      explode: true
    set:
      name: set
      in: query
      description: "PATH=VALUE, the CLI's --set. Repeatable."
      schema: {type: array, items: {type: string}}
      style: form
      explode: true
    policy:
      name: policy
      in: query
      description: "A file beside the scenario whose top-level policy: replaces the scenario's (the CLI's --policy)."
      schema: {type: string}
    market:
      name: market
      in: query
      description: "A file beside the scenario whose top-level market: replaces the scenario's (the CLI's --market)."
      schema: {type: string}
    cascade:
      name: cascade
      in: query
      description: "Run the liquidation cascade of the move (default: when the scenario has calibration.liquidation.cascade)."
      schema: {type: boolean}
  schemas:
    Moves:
      type: object
      additionalProperties: false
      properties:
        shock: {type: array, items: {type: string}, example: ["BTC=-0.2"]}
        shock_vol: {type: array, items: {type: string}, example: ["*=0.5"]}
        set: {type: array, items: {type: string}}
        policy: {type: string}
        market: {type: string}
        cascade: {type: boolean}
    WhatIfRequest:
      allOf:
        - $ref: '#/components/schemas/Moves'
        - type: object
          properties:
            filter: {type: string, enum: [failing, liquidated, bankrupt, all], default: failing}
            search: {type: string, description: "account ids containing this text"}
            sort: {type: string, enum: [risk, id, loss, equity_after, maintenance, shortfall], default: risk}
            order: {type: string, enum: [asc, desc]}
            offset: {type: integer, minimum: 0, default: 0}
            limit: {type: integer, minimum: 0, maximum: 1000, default: 100}
    Account:
      type: object
      description: "The stress report's account entry."
      properties:
        id: {type: string}
        account: {type: string}
        loss: {type: number}
        equity_after: {type: number}
        maintenance: {type: number, nullable: true}
        shortfall: {type: number}
        liquidated: {type: boolean, nullable: true}
        bankrupt: {type: boolean}
    WhatIfAnswer:
      type: object
      properties:
        scenario: {type: string}
        generation: {type: integer, description: "counts reloads"}
        overrides: {type: array, items: {type: string}}
        maintenance_source: {type: string, nullable: true}
        stress:
          type: object
          description: "The stress report's entry of the move (stresses[0] of thresher stress --shock … --json) without its accounts."
          properties:
            name: {type: string}
            origin: {type: string}
            horizon_days: {type: number}
            spot_moves: {type: object, additionalProperties: {type: number}}
            vol_moves: {type: object, additionalProperties: {type: number}}
            book_loss: {type: number}
            accounts_liquidated: {type: integer, nullable: true}
            accounts_bankrupt: {type: integer}
            total_shortfall: {type: number}
        fund:
          type: object
          nullable: true
          properties:
            balance: {type: number}
            total_shortfall: {type: number}
            left: {type: number}
            holds: {type: boolean}
        accounts:
          type: object
          properties:
            total: {type: integer}
            matching: {type: integer}
            filter: {type: string}
            search: {type: string}
            sort: {type: string}
            order: {type: string}
            offset: {type: integer}
            limit: {type: integer}
            rows: {type: array, items: {$ref: '#/components/schemas/Account'}}
        cascade:
          type: object
          nullable: true
          description: "thresher stress --cascade --json's document for the move alone."
        links:
          type: object
          properties:
            self: {type: string}
            report: {type: string}
        seconds: {type: number}
    JobRequest:
      allOf:
        - $ref: '#/components/schemas/Moves'
        - type: object
          required: [command]
          properties:
            command: {type: string, enum: [run, calibrate, evaluate]}
            paths: {type: integer, minimum: 1}
            seed: {oneOf: [{type: integer, minimum: 0}, {type: string, pattern: "^[0-9]+$"}]}
            sections: {type: integer, minimum: 0, description: "calibrate only"}
    Job:
      type: object
      properties:
        id: {type: string}
        command: {type: string}
        state: {type: string, enum: [queued, running, done, failed, cancelled]}
        paths: {type: integer, nullable: true}
        seed: {type: string, nullable: true}
        overrides: {type: array, items: {type: string}}
        shock: {type: array, items: {type: string}}
        shock_vol: {type: array, items: {type: string}}
        progress:
          type: object
          properties:
            completed: {type: integer}
            total: {type: integer}
            fraction: {type: number}
        created_at: {type: string}
        seconds: {type: number, nullable: true}
        error: {$ref: '#/components/schemas/Error'}
        links: {type: object, additionalProperties: {type: string}}
    Scenario:
      type: object
      properties:
        scenario: {type: string}
        file: {type: string}
        generation: {type: integer}
        loaded_at: {type: string}
        load_seconds: {type: number}
        accounts: {type: integer}
        positions: {type: integer}
        assets: {type: array, items: {type: object, properties: {id: {type: string}, spot: {type: number}}}}
        stablecoins: {type: array, items: {type: object, properties: {id: {type: string}, price: {type: number}}}}
        maintenance_source: {type: string, nullable: true}
        insurance_fund: {type: number, nullable: true}
        cascade: {type: boolean}
        simulation: {type: object}
        limits: {type: object}
    Error:
      type: object
      nullable: true
      properties:
        error:
          type: object
          properties:
            status: {type: integer}
            message: {type: string}
            file: {type: string, nullable: true}
            path: {type: string, nullable: true}
            line: {type: integer, nullable: true}
  responses:
    Job:
      description: The job
      content:
        application/json:
          schema: {$ref: '#/components/schemas/Job'}
    Error:
      description: "A bad request (400, with the CLI's message and field path), a missing or wrong token (401), an unknown job (404), a conflict (409), a body over --max-body (413), too many jobs (429)."
      content:
        application/json:
          schema: {$ref: '#/components/schemas/Error'}
security:
  - bearer: []
paths:
  /:
    get:
      summary: The risk desk's page (self-contained HTML).
      security: []
      responses:
        "200": {description: HTML page, content: {text/html: {}}}
  /openapi.yaml:
    get:
      summary: This description.
      security: []
      responses:
        "200": {description: OpenAPI 3 YAML, content: {application/yaml: {}}}
  /healthz:
    get:
      summary: Liveness.
      security: []
      responses:
        "200": {description: '{"status": "ok"}', content: {application/json: {}}}
  /api/scenario:
    get:
      summary: What is loaded (accounts, assets, fund, limits).
      responses:
        "200": {description: The scenario, content: {application/json: {schema: {$ref: '#/components/schemas/Scenario'}}}}
        default: {$ref: '#/components/responses/Error'}
  /api/reload:
    post:
      summary: Read the scenario and its CSV book again (a new export); on an error the loaded one stays.
      responses:
        "200": {description: The new snapshot, content: {application/json: {schema: {$ref: '#/components/schemas/Scenario'}}}}
        default: {$ref: '#/components/responses/Error'}
  /api/whatif:
    get:
      summary: Who fails under a move (query form of POST, for links).
      parameters:
        - {$ref: '#/components/parameters/shock'}
        - {$ref: '#/components/parameters/shock_vol'}
        - {$ref: '#/components/parameters/set'}
        - {$ref: '#/components/parameters/policy'}
        - {$ref: '#/components/parameters/market'}
        - {$ref: '#/components/parameters/cascade'}
        - {name: filter, in: query, schema: {type: string, enum: [failing, liquidated, bankrupt, all]}}
        - {name: search, in: query, schema: {type: string}}
        - {name: sort, in: query, schema: {type: string, enum: [risk, id, loss, equity_after, maintenance, shortfall]}}
        - {name: order, in: query, schema: {type: string, enum: [asc, desc]}}
        - {name: offset, in: query, schema: {type: integer, minimum: 0}}
        - {name: limit, in: query, schema: {type: integer, minimum: 0, maximum: 1000}}
      responses:
        "200": {description: The answer, content: {application/json: {schema: {$ref: '#/components/schemas/WhatIfAnswer'}}}}
        default: {$ref: '#/components/responses/Error'}
    post:
      summary: "Who fails under a move: the summary (stress report fields), the fund, a page of accounts, the cascade."
      requestBody:
        content:
          application/json:
            schema: {$ref: '#/components/schemas/WhatIfRequest'}
      responses:
        "200": {description: The answer, content: {application/json: {schema: {$ref: '#/components/schemas/WhatIfAnswer'}}}}
        default: {$ref: '#/components/responses/Error'}
  /api/stress:
    get:
      summary: "thresher stress FILE --shock … --json: the full report (every account, the scenario's stresses after the move)."
      parameters:
        - {$ref: '#/components/parameters/shock'}
        - {$ref: '#/components/parameters/shock_vol'}
        - {$ref: '#/components/parameters/set'}
        - {$ref: '#/components/parameters/policy'}
        - {$ref: '#/components/parameters/market'}
      responses:
        "200": {description: The stress report's JSON document, content: {application/json: {}}}
        default: {$ref: '#/components/responses/Error'}
    post:
      summary: As GET, with the moves in the body.
      requestBody:
        content:
          application/json:
            schema: {$ref: '#/components/schemas/Moves'}
      responses:
        "200": {description: The stress report's JSON document, content: {application/json: {}}}
        default: {$ref: '#/components/responses/Error'}
  /api/jobs:
    get:
      summary: Every job kept.
      responses:
        "200": {description: '{"jobs": [Job]}', content: {application/json: {}}}
    post:
      summary: Start run, calibrate or evaluate (queued; --max-jobs queued or running at once, 429 beyond).
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: '#/components/schemas/JobRequest'}
      responses:
        "202": {$ref: '#/components/responses/Job'}
        default: {$ref: '#/components/responses/Error'}
  /api/jobs/{id}:
    parameters:
      - {$ref: '#/components/parameters/job'}
    get:
      summary: The job's state and progress.
      responses:
        "200": {$ref: '#/components/responses/Job'}
        default: {$ref: '#/components/responses/Error'}
    delete:
      summary: Cancel the job.
      responses:
        "202": {$ref: '#/components/responses/Job'}
        default: {$ref: '#/components/responses/Error'}
  /api/jobs/{id}/result:
    parameters:
      - {$ref: '#/components/parameters/job'}
    get:
      summary: The command's --json document (409 until the job is done).
      responses:
        "200": {description: The report, content: {application/json: {}}}
        default: {$ref: '#/components/responses/Error'}
  /api/jobs/{id}/events:
    parameters:
      - {$ref: '#/components/parameters/job'}
    get:
      summary: "Server-sent events: 'progress' every 200 ms (data: the Job), then one 'end'."
      responses:
        "200": {description: An event stream, content: {text/event-stream: {}}}
        default: {$ref: '#/components/responses/Error'}

"""#
}
