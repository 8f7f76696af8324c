package io.github.pulsaroutbox.demo.order;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.axonframework.serialization.SimpleSerializedType;
import org.axonframework.serialization.upcasting.event.IntermediateEventRepresentation;
import org.axonframework.serialization.upcasting.event.SingleEventUpcaster;
import org.springframework.stereotype.Component;

/**
 * LineAdded 1 → 2: {@code product} became {@code sku}. An ordinary Axon event upcaster: the event store uses it to
 * read old events, and the outbox uses the same bean to publish rows captured by the previous release at version 2.
 */
@Component
public class LineAddedUpcaster extends SingleEventUpcaster {

    private static final SimpleSerializedType V1 = new SimpleSerializedType(OrderEvents.LineAdded.class.getName(), "1");
    private static final SimpleSerializedType V2 = new SimpleSerializedType(OrderEvents.LineAdded.class.getName(), "2");

    @Override
    protected boolean canUpcast(IntermediateEventRepresentation representation) {
        return representation.getType().equals(V1);
    }

    @Override
    protected IntermediateEventRepresentation doUpcast(IntermediateEventRepresentation representation) {
        return representation.upcastPayload(V2, JsonNode.class, node -> {
            ObjectNode payload = (ObjectNode) node;
            payload.set("sku", payload.remove("product"));
            return payload;
        });
    }
}
