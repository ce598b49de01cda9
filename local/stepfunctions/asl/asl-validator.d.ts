// asl-validator 4.x ships JavaScript only; these are the parts of its API validate.ts uses.
declare module "asl-validator" {
  namespace validator {
    interface StateMachineError {
      "Error code": string;
      Message: string;
      schemaError?: { instancePath: string; schemaPath: string };
    }
  }
  interface ValidationResult {
    isValid: boolean;
    errors: validator.StateMachineError[];
    errorsText(separator?: string): string;
  }
  function validator(definition: unknown, options?: { checkPaths: boolean; checkArn: boolean }): ValidationResult;
  export = validator;
}
