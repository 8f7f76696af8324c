package io.github.pulsaroutbox.upcasting.current;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.axonframework.serialization.SimpleSerializedType;
import org.axonframework.serialization.upcasting.event.IntermediateEventRepresentation;
import org.axonframework.serialization.upcasting.event.SingleEventUpcaster;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.annotation.Order;

/** The application's event-store upcasters for CustomerRegistered: 1 → 2 → 3. The outbox reuses them. */
@Configuration
public class CustomerUpcasters {

    static final String TYPE = CustomerRegistered.class.getName();

    @Bean
    @Order(1)
    public V1ToV2 customerRegisteredV1ToV2() {
        return new V1ToV2();
    }

    @Bean
    @Order(2)
    public V2ToV3 customerRegisteredV2ToV3() {
        return new V2ToV3();
    }

    /** Renames {@code mail} to {@code email}. */
    public static class V1ToV2 extends SingleEventUpcaster {
        @Override
        protected boolean canUpcast(IntermediateEventRepresentation representation) {
            return representation.getType().equals(new SimpleSerializedType(TYPE, "1"));
        }

        @Override
        protected IntermediateEventRepresentation doUpcast(IntermediateEventRepresentation representation) {
            return representation.upcastPayload(new SimpleSerializedType(TYPE, "2"), JsonNode.class, node -> {
                ObjectNode payload = (ObjectNode) node;
                payload.set("email", payload.remove("mail"));
                return payload;
            });
        }
    }

    /** Splits {@code name} into first and last name; adds {@code newsletter=false}. */
    public static class V2ToV3 extends SingleEventUpcaster {
        @Override
        protected boolean canUpcast(IntermediateEventRepresentation representation) {
            return representation.getType().equals(new SimpleSerializedType(TYPE, "2"));
        }

        @Override
        protected IntermediateEventRepresentation doUpcast(IntermediateEventRepresentation representation) {
            return representation.upcastPayload(new SimpleSerializedType(TYPE, "3"), JsonNode.class, node -> {
                ObjectNode payload = (ObjectNode) node;
                String name = payload.remove("name").asText();
                int space = name.indexOf(' ');
                if (space < 0) {
                    throw new IllegalArgumentException("cannot split the name '" + name + "'");
                }
                payload.put("firstName", name.substring(0, space));
                payload.put("lastName", name.substring(space + 1));
                payload.put("newsletter", false);
                return payload;
            });
        }
    }
}
