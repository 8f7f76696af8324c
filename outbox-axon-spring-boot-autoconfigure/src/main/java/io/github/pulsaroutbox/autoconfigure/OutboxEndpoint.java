package io.github.pulsaroutbox.autoconfigure;

import io.github.pulsaroutbox.operations.OutboxOperations;
import io.github.pulsaroutbox.relay.OutboxRelay;
import org.springframework.boot.actuate.endpoint.SecurityContext;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;
import org.springframework.boot.actuate.endpoint.annotation.Selector;
import org.springframework.boot.actuate.endpoint.annotation.WriteOperation;
import org.springframework.boot.actuate.endpoint.web.WebEndpointResponse;
import org.springframework.lang.Nullable;

import org.slf4j.LoggerFactory;

import java.security.Principal;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The {@code outbox} Actuator endpoint (expose it with {@code management.endpoints.web.exposure.include}):
 * <ul>
 *     <li>{@code GET /actuator/outbox?aggregateType=&aggregateId=&page=&size=}: counts by status, oldest pending
 *     age (read now and shared with the health indicator and the gauges, which report the same figure until their
 *     next refresh; {@code backlogReadAt} says when), relay state, and a page of parked rows (with how many rows
 *     wait behind each);</li>
 *     <li>{@code GET /actuator/outbox/{id}}: one row with its error and history;</li>
 *     <li>{@code POST /actuator/outbox/{id}} {@code {"action":"retry"|"discard","reason":"..."}};</li>
 *     <li>{@code POST /actuator/outbox} {@code {"action":"retry-aggregate","aggregateType":"..","aggregateId":".."}}
 *     or {@code {"action":"retry-all"}}.</li>
 * </ul>
 * The acting principal (or {@code actuator} when unauthenticated) is recorded on every changed row.
 */
@Endpoint(id = "outbox")
class OutboxEndpoint {

    private static final String UNAUTHENTICATED = "actuator";

    private final OutboxOperations operations;
    private final OutboxRelay relay;
    private final io.github.pulsaroutbox.metrics.OutboxStatistics statistics;

    /** @param operations the operator's actions, {@code null} when the store does not support them */
    OutboxEndpoint(OutboxOperations operations, OutboxRelay relay,
                   io.github.pulsaroutbox.metrics.OutboxStatistics statistics) {
        this.operations = operations;
        this.relay = relay;
        this.statistics = statistics;
    }

    @ReadOperation
    public WebEndpointResponse<Object> outbox(@Nullable String aggregateType, @Nullable String aggregateId,
                                              @Nullable Integer page, @Nullable Integer size) {
        return guarded(() -> overview(aggregateType, aggregateId, page, size));
    }

    private WebEndpointResponse<Object> overview(String aggregateType, String aggregateId, Integer page,
                                                 Integer size) {
        if (operations == null) {
            return unsupported();
        }
        OutboxOperations.Summary summary = operations.summary();
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("counts", summary.counts());
        if (statistics != null) {
            // the snapshot the health indicator and the gauges report next, so all three show the same backlog age
            io.github.pulsaroutbox.metrics.OutboxStatistics.Snapshot backlog = statistics.refresh();
            body.put("oldestPendingAge", backlog.oldestPendingAge().toString());
            body.put("backlogReadAt", backlog.takenAt().toString());
        } else {
            body.put("oldestPendingAge", summary.oldestPendingAge() == null ? Duration.ZERO.toString()
                                                                            : summary.oldestPendingAge().toString());
        }
        body.put("relayRunning", relay.isRunning());
        relay.segmentClaims().ifPresent(claims -> {
            Map<String, Object> node = new LinkedHashMap<>();
            node.put("nodeId", claims.nodeId());
            node.put("processorName", claims.processorName());
            node.put("segmentCount", claims.segmentCount());
            node.put("ownedSegments", new java.util.TreeSet<>(claims.ownedSegments()));
            node.put("liveNodes", claims.liveNodes());
            body.put("relayNode", node);
        });
        try {
            body.put("parked", operations.parked(aggregateType, aggregateId, page == null ? 0 : page,
                                                 size == null ? 20 : size));
        } catch (IllegalArgumentException e) {
            return badRequest(e.getMessage());
        }
        return new WebEndpointResponse<>(body);
    }

    @ReadOperation
    public WebEndpointResponse<Object> row(@Selector String id) {
        if (operations == null) {
            return unsupported();
        }
        return guarded(() -> operations.row(id)
                         .map(row -> new WebEndpointResponse<Object>(row))
                         .orElseGet(() -> new WebEndpointResponse<>(Map.of("error", "no outbox row " + id),
                                                                    WebEndpointResponse.STATUS_NOT_FOUND)));
    }

    @WriteOperation
    public WebEndpointResponse<Object> act(@Selector String id, String action, @Nullable String reason,
                                           SecurityContext securityContext) {
        return guarded(() -> change(id, action, reason, securityContext));
    }

    private WebEndpointResponse<Object> change(String id, String action, String reason,
                                               SecurityContext securityContext) {
        if (operations == null) {
            return unsupported();
        }
        String actor = actor(securityContext);
        boolean changed;
        switch (action) {
            case "retry" -> changed = operations.retry(id, actor, reason);
            case "discard" -> {
                if (reason == null || reason.isBlank()) {
                    return badRequest("discarding a row needs a reason");
                }
                changed = operations.discard(id, actor, reason);
            }
            default -> {
                return badRequest("unknown action '" + action + "': use retry or discard");
            }
        }
        if (!changed) {
            return new WebEndpointResponse<>(Map.of("error", "no parked outbox row " + id),
                                             WebEndpointResponse.STATUS_NOT_FOUND);
        }
        return new WebEndpointResponse<>(Map.of("id", id, "action", action, "by", actor));
    }

    @WriteOperation
    public WebEndpointResponse<Object> bulk(String action, @Nullable String aggregateType,
                                            @Nullable String aggregateId, @Nullable String reason,
                                            SecurityContext securityContext) {
        return guarded(() -> changeMany(action, aggregateType, aggregateId, reason, securityContext));
    }

    private WebEndpointResponse<Object> changeMany(String action, String aggregateType, String aggregateId,
                                                   String reason, SecurityContext securityContext) {
        if (operations == null) {
            return unsupported();
        }
        String actor = actor(securityContext);
        int rows;
        switch (action) {
            case "retry-aggregate" -> {
                if (aggregateType == null || aggregateId == null) {
                    return badRequest("retry-aggregate needs aggregateType and aggregateId");
                }
                rows = operations.retryAggregate(aggregateType, aggregateId, actor, reason);
            }
            case "retry-all" -> rows = operations.retryAll(actor, reason);
            default -> {
                return badRequest("unknown action '" + action + "': use retry-aggregate or retry-all");
            }
        }
        return new WebEndpointResponse<>(Map.of("action", action, "rows", rows, "by", actor));
    }

    /**
     * The answer, or 503 with the reason when the outbox table cannot be read or written (database down, table
     * missing): an operator gets the cause, not a bare 500.
     */
    private static WebEndpointResponse<Object> guarded(java.util.function.Supplier<WebEndpointResponse<Object>> call) {
        try {
            return call.get();
        } catch (IllegalArgumentException e) {
            return badRequest(e.getMessage());
        } catch (RuntimeException e) {
            LoggerFactory.getLogger(OutboxEndpoint.class).warn("The outbox endpoint could not reach the outbox", e);
            return new WebEndpointResponse<>(Map.of("error", "the outbox cannot be reached: " + e.getMessage()),
                                             WebEndpointResponse.STATUS_SERVICE_UNAVAILABLE);
        }
    }

    /** Who acts: the authenticated principal, else {@code actuator}. */
    static String actor(SecurityContext securityContext) {
        Principal principal = securityContext == null ? null : securityContext.getPrincipal();
        return principal == null ? UNAUTHENTICATED : principal.getName();
    }

    private static WebEndpointResponse<Object> unsupported() {
        return new WebEndpointResponse<>(Map.of("error", "the outbox store does not support operator actions"),
                                         WebEndpointResponse.STATUS_SERVICE_UNAVAILABLE);
    }

    static WebEndpointResponse<Object> badRequest(String message) {
        return new WebEndpointResponse<>(Map.of("error", message), WebEndpointResponse.STATUS_BAD_REQUEST);
    }
}
