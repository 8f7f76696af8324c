package io.github.pulsaroutbox.autoconfigure;

import io.github.pulsaroutbox.deadletter.ProcessingGroupDeadLetters;
import org.springframework.boot.actuate.endpoint.SecurityContext;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;
import org.springframework.boot.actuate.endpoint.annotation.Selector;
import org.springframework.boot.actuate.endpoint.annotation.WriteOperation;
import org.springframework.boot.actuate.endpoint.web.WebEndpointResponse;
import org.springframework.lang.Nullable;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;

/**
 * The {@code receiving} Actuator endpoint: the receiving processing groups' parked events (events their handlers
 * refused, in each group's Axon dead-letter queue), with the same actions as the outbox's parked rows.
 * <ul>
 *     <li>{@code GET /actuator/receiving}: each receiving group, whether it has a dead-letter queue, how many
 *     aggregates and events are parked;</li>
 *     <li>{@code GET /actuator/receiving/{group}?aggregateId=&page=&size=}: a page of the group's parked events;</li>
 *     <li>{@code GET /actuator/receiving/{group}/{id}}: one parked event with its cause;</li>
 *     <li>{@code POST /actuator/receiving/{group}/{id}} {@code {"action":"retry"|"discard","reason":"..."}} (retry:
 *     the first parked event of its aggregate, then the ones behind it, through the group's interceptors and
 *     inbox);</li>
 *     <li>{@code POST /actuator/receiving/{group}} {@code {"action":"retry-aggregate","aggregateId":".."}} or
 *     {@code {"action":"retry-all"}}.</li>
 * </ul>
 * An unknown group answers 404; a group without a dead-letter queue 503 saying how to configure one.
 */
@Endpoint(id = "receiving")
class ReceivingEndpoint {

    private final ReceivingDeadLetters deadLetters;

    ReceivingEndpoint(ReceivingDeadLetters deadLetters) {
        this.deadLetters = deadLetters;
    }

    @ReadOperation
    public Map<String, Object> groups() {
        Map<String, Object> groups = new LinkedHashMap<>();
        for (String group : deadLetters.groups()) {
            Map<String, Object> detail = new LinkedHashMap<>();
            var letters = deadLetters.of(group);
            detail.put("deadLetterQueue", letters.isPresent());
            letters.ifPresent(found -> {
                detail.put("parkedAggregates", found.sequences());
                detail.put("parkedEvents", found.size());
            });
            groups.put(group, detail);
        }
        return Map.of("groups", groups);
    }

    @ReadOperation
    public WebEndpointResponse<Object> group(@Selector String group, @Nullable String aggregateId,
                                             @Nullable Integer page, @Nullable Integer size) {
        return guarded(group, letters -> DeadLetterActions.page(letters, Map.of("group", group), aggregateId, page,
                                                                size));
    }

    @ReadOperation
    public WebEndpointResponse<Object> letter(@Selector String group, @Selector String id) {
        return guarded(group, letters -> DeadLetterActions.letter(letters, id));
    }

    @WriteOperation
    public WebEndpointResponse<Object> act(@Selector String group, @Selector String id, String action,
                                           @Nullable String reason, SecurityContext securityContext) {
        return guarded(group, letters -> DeadLetterActions.act(letters, id, action, reason,
                                                               OutboxEndpoint.actor(securityContext)));
    }

    @WriteOperation
    public WebEndpointResponse<Object> bulk(@Selector String group, String action, @Nullable String aggregateId,
                                            @Nullable String reason, SecurityContext securityContext) {
        return guarded(group, letters -> DeadLetterActions.bulk(letters, action, aggregateId, reason,
                                                                OutboxEndpoint.actor(securityContext)));
    }

    private WebEndpointResponse<Object> guarded(
            String group, Function<ProcessingGroupDeadLetters, WebEndpointResponse<Object>> call) {
        if (!deadLetters.isGroup(group)) {
            return new WebEndpointResponse<>(Map.of("error", "no receiving processing group '" + group + "' (groups: "
                    + deadLetters.groups() + ")"), WebEndpointResponse.STATUS_NOT_FOUND);
        }
        return DeadLetterActions.guarded(deadLetters.of(group), "the processing group '" + group
                + "' has no dead-letter queue: set axon.eventhandling.processors." + group
                + ".dlq.enabled=true (with a JPA or JDBC dead-letter queue), or register one with "
                + "EventProcessingConfigurer#registerDeadLetterQueue", call);
    }
}
